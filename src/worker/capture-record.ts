/**
 * Capture records (entries of `wb:changes:{<writer>}`, format in src/shared/protocol.ts) parsed into what the
 * batch writer needs. A record that cannot be parsed is never retried: it becomes a dead letter, because
 * replaying the same bytes would fail the same way forever.
 */
import { RecordField, RecordOp, type RecordOpCode } from '../shared/protocol.js';
import type { StreamEntry } from './stream-entry.js';

export interface CaptureRecord {
  /** Capture stream id; orders the record within its writer. */
  readonly id: string;
  readonly op: RecordOpCode;
  /** The Redis key the change came from (acks are addressed by it). */
  readonly key: string;
  readonly table: string;
  /** uuid of a requested acknowledgement. */
  readonly ack: string | undefined;
  /** Primary key column → value, in the record's order. */
  readonly keyValues: ReadonlyMap<string, Buffer>;
  /** Mapped column → value (null for NULL); empty for deletes. */
  readonly columns: ReadonlyMap<string, Buffer | null>;
  /** The entry as captured, copied into a dead letter so `dlq replay` can re-capture it. */
  readonly entry: StreamEntry;
}

export type ParsedCaptureEntry =
  | { readonly ok: true; readonly record: CaptureRecord }
  | { readonly ok: false; readonly entry: StreamEntry; readonly reason: string };

export function parseCaptureEntry(entry: StreamEntry): ParsedCaptureEntry {
  const fail = (reason: string): ParsedCaptureEntry => ({ ok: false, entry, reason });
  let op: string | undefined;
  let key: string | undefined;
  let table: string | undefined;
  let ack: string | undefined;
  let nulls: string[] = [];
  const keyValues = new Map<string, Buffer>();
  const columns = new Map<string, Buffer | null>();
  for (const [name, value] of entry.fields) {
    if (name === RecordField.op) op = value.toString('utf8');
    else if (name === RecordField.key) key = value.toString('utf8');
    else if (name === RecordField.table) table = value.toString('utf8');
    else if (name === RecordField.ack) ack = value.toString('utf8');
    else if (name === RecordField.nulls) nulls = value.length === 0 ? [] : value.toString('utf8').split(',');
    else if (name.startsWith(RecordField.keyColumnPrefix)) keyValues.set(name.slice(RecordField.keyColumnPrefix.length), value);
    else if (name.startsWith(RecordField.columnPrefix)) columns.set(name.slice(RecordField.columnPrefix.length), value);
    // Unknown fields are ignored, so a newer library can add fields without stalling an older worker.
  }
  if (op !== RecordOp.upsert && op !== RecordOp.delete) return fail(`malformed record: op '${op ?? ''}' is neither 'u' nor 'd'`);
  if (key === undefined || key === '') return fail("malformed record: no 'key' field");
  if (table === undefined || table === '') return fail("malformed record: no 'table' field");
  if (keyValues.size === 0) return fail('malformed record: no primary key field (k:<column>)');
  for (const column of nulls) {
    if (columns.has(column)) return fail(`malformed record: column '${column}' is both set and listed as NULL`);
    columns.set(column, null);
  }
  if (op === RecordOp.upsert && columns.size === 0) return fail('malformed record: an upsert with no columns');
  if (op === RecordOp.delete) columns.clear();
  return { ok: true, record: { id: entry.id, op, key, table, ack: ack === '' ? undefined : ack, keyValues, columns, entry } };
}
