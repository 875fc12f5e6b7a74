/**
 * Capture records (entries of `wb:changes:{<writer>}`, format in src/shared/protocol.ts) as the batch writer
 * reads them: a shape (table and column names, shared by the records that have the same: record-shape.ts)
 * and values read by position, decoded only when asked for. Record format 2 (compact-record.ts) is read
 * straight from the bytes of the XRANGE reply; format 1 (format-one-record.ts) from a decoded entry; both
 * apply the same rules with the same messages (capture-entry.ts reads an entry of either).
 */
import { RecordField, type RecordOpCode } from '../shared/protocol.js';
import type { RecordShape } from './record-shape.js';
import type { StreamEntry } from './redis/stream-entry.js';

export interface CaptureRecord {
  /** Capture stream id; orders the record within its writer. */
  readonly id: string;
  readonly op: RecordOpCode;
  /** The Redis key the change came from (acks are addressed by it). */
  readonly key: string;
  readonly table: string;
  /** uuid of a requested acknowledgement. */
  readonly ack: string | undefined;
  /** Table, key column names and column names (none for deletes); value `i` is `[...keyColumns, ...columns][i]`'s. */
  readonly shape: RecordShape;
  /** Value `i`'s bytes (a view: copy what must outlive the batch), or null for NULL. */
  value(i: number): Buffer | null;
  /** Value `i` as text when it is valid UTF-8, undefined when it is not, null for NULL. */
  text(i: number): string | null | undefined;
  /** Value `i` as latin1, one character per byte (compares any bytes exactly); '' for NULL. */
  latin1(i: number): string;
  /** Bytes of value `i`; -1 for NULL. */
  byteLength(i: number): number;
  /**
   * The entry as captured, copied into a dead letter so `dlq replay` can re-capture it; a format-2 record is
   * given in format 1's fields, which `dlq list` shows readably and the worker reads alike.
   */
  readonly entry: StreamEntry;
}

export type ParsedCaptureEntry =
  | { readonly ok: true; readonly record: CaptureRecord }
  | { readonly ok: false; readonly entry: StreamEntry; readonly reason: string };

/** How every reason for a malformed record starts. */
export const MALFORMED = 'malformed record: ';

/** ignoreBOM: a leading U+FEFF is part of the value, not a marker to strip. */
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** buffer[start, end) as text when it is valid UTF-8, undefined when not; ASCII (most values) without a view or a decoder. */
export function utf8Text(buffer: Buffer, start: number, end: number): string | undefined {
  for (let i = start; i < end; i++) {
    if (buffer[i]! < 0x80) continue;
    try {
      return fatalUtf8.decode(buffer.subarray(start, end));
    } catch {
      return undefined;
    }
  }
  return buffer.toString('latin1', start, end);
}

/** Key column → value, in the record's order (for dead letters and tests: the writer reads values by position). */
export function recordKeyValues(record: CaptureRecord): Map<string, Buffer> {
  return new Map(record.shape.keyColumns.map((column, i) => [column, record.value(i)!]));
}

/** Column → value (null for NULL), in the record's order; empty for deletes. */
export function recordColumns(record: CaptureRecord): Map<string, Buffer | null> {
  const keys = record.shape.keyColumns.length;
  return new Map(record.shape.columns.map((column, i) => [column, record.value(keys + i)]));
}

/** A record in format 1's fields (values copied: a dead letter outlives the page), which `dlq list` shows readably. */
export function formatOneEntry(record: CaptureRecord): StreamEntry {
  const out: Array<readonly [string, Buffer]> = [];
  const text = (name: string, value: string | undefined) => {
    if (value !== undefined && value !== '') out.push([name, Buffer.from(value, 'utf8')]);
  };
  text(RecordField.op, record.op);
  text(RecordField.key, record.key);
  text(RecordField.table, record.table);
  text(RecordField.ack, record.ack);
  for (const [column, value] of recordKeyValues(record)) out.push([`${RecordField.keyColumnPrefix}${column}`, Buffer.from(value)]);
  const nulls: string[] = [];
  for (const [column, value] of recordColumns(record)) {
    if (value === null) nulls.push(column);
    else out.push([`${RecordField.columnPrefix}${column}`, Buffer.from(value)]);
  }
  if (nulls.length > 0) out.push([RecordField.nulls, Buffer.from(nulls.join(','), 'utf8')]);
  return { id: record.id, fields: out };
}
