/**
 * Capture records (entries of `wb:changes:{<writer>}`, format in src/shared/protocol.ts) parsed into what the
 * batch writer needs. A record that cannot be parsed is never retried: it becomes a dead letter, because
 * replaying the same bytes would fail the same way forever.
 *
 * Two parsers feed the same rules (checkCaptureRecord): parseCaptureEntry, from a decoded StreamEntry, and the
 * hot path's capture-page.ts, straight from the bytes of an XRANGE reply. Both read record format 2 (one field
 * `v2`, compact-record.ts) and format 1 (a field per part), so a backlog of an older library drains after an
 * upgrade.
 */
import { RecordField, RecordOp, type RecordOpCode } from '../shared/protocol.js';
import { emptyNameCache, readCompactRecord, type NameCache } from './compact-record.js';
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
  /** Primary key column → value, in the record's order. */
  readonly keyValues: ReadonlyMap<string, Buffer>;
  /** Mapped column → value (null for NULL); empty for deletes. */
  readonly columns: ReadonlyMap<string, Buffer | null>;
  /**
   * The entry as captured, copied into a dead letter so `dlq replay` can re-capture it; a format-2 record is
   * given in format 1's fields, which `dlq list` shows readably and the worker reads alike.
   */
  readonly entry: StreamEntry;
}

export type ParsedCaptureEntry =
  | { readonly ok: true; readonly record: CaptureRecord }
  | { readonly ok: false; readonly entry: StreamEntry; readonly reason: string };

/** The fields of one record as a parser found them, before the rules are checked. */
export interface RecordFields {
  op: string | undefined;
  key: string | undefined;
  table: string | undefined;
  ack: string | undefined;
  /** The `null` field, as text ('' when absent). */
  nulls: string;
  /** Set by the `v2` field: the fields came from a format-2 record. */
  v2: boolean;
  /** Why a `v2` value could not be read. */
  malformed: string | undefined;
  readonly keyValues: Map<string, Buffer>;
  readonly columns: Map<string, Buffer | null>;
}

export function emptyRecordFields(): RecordFields {
  return { op: undefined, key: undefined, table: undefined, ack: undefined, nulls: '', v2: false, malformed: undefined, keyValues: new Map(), columns: new Map() };
}

/**
 * The record, or why it is malformed. `entry` gives the entry as captured: the hot path builds it only when a
 * dead letter needs it.
 */
export function checkCaptureRecord(id: string, fields: RecordFields, raw: () => StreamEntry): ParsedCaptureEntry {
  if (fields.malformed !== undefined) return { ok: false, entry: raw(), reason: fields.malformed };
  const entry = fields.v2 ? () => formatOneEntry(id, fields) : raw;
  const fail = (reason: string): ParsedCaptureEntry => ({ ok: false, entry: entry(), reason });
  const { op, key, table, ack, keyValues, columns } = fields;
  if (op !== RecordOp.upsert && op !== RecordOp.delete) return fail(`malformed record: op '${op ?? ''}' is neither 'u' nor 'd'`);
  if (key === undefined || key === '') return fail("malformed record: no 'key' field");
  if (table === undefined || table === '') return fail("malformed record: no 'table' field");
  if (keyValues.size === 0) return fail('malformed record: no primary key field (k:<column>)');
  if (fields.nulls !== '') {
    for (const column of fields.nulls.split(',')) {
      if (columns.has(column)) return fail(`malformed record: column '${column}' is both set and listed as NULL`);
      columns.set(column, null);
    }
  }
  if (op === RecordOp.upsert && columns.size === 0) return fail('malformed record: an upsert with no columns');
  if (op === RecordOp.delete) columns.clear();
  return { ok: true, record: new ParsedRecord(id, op, key, table, ack === '' ? undefined : ack, keyValues, columns, entry) };
}

export function parseCaptureEntry(entry: StreamEntry): ParsedCaptureEntry {
  const fields = emptyRecordFields();
  for (const [name, value] of entry.fields) {
    if (name === RecordField.v2) readV2Field(value, 0, value.length, fields, emptyNameCache());
    else if (name === RecordField.op) fields.op = value.toString('utf8');
    else if (name === RecordField.key) fields.key = value.toString('utf8');
    else if (name === RecordField.table) fields.table = value.toString('utf8');
    else if (name === RecordField.ack) fields.ack = value.toString('utf8');
    else if (name === RecordField.nulls) fields.nulls = value.toString('utf8');
    else if (name.startsWith(RecordField.keyColumnPrefix)) fields.keyValues.set(name.slice(RecordField.keyColumnPrefix.length), value);
    else if (name.startsWith(RecordField.columnPrefix)) fields.columns.set(name.slice(RecordField.columnPrefix.length), value);
    // Unknown fields are ignored, so a newer library can add fields without stalling an older worker.
  }
  return checkCaptureRecord(entry.id, fields, () => entry);
}

/** Reads a `v2` value into `fields`: a second `v2` in one entry is malformed rather than a silent merge. */
export function readV2Field(buffer: Buffer, from: number, length: number, fields: RecordFields, names: NameCache): void {
  if (fields.v2) {
    fields.malformed ??= "malformed record: more than one 'v2' field";
    return;
  }
  fields.v2 = true;
  fields.malformed ??= readCompactRecord(buffer, from, length, fields, names) ?? undefined;
}

/** A format-2 record's parts as format 1's fields (values copied: a dead letter outlives the page they view). */
function formatOneEntry(id: string, fields: RecordFields): StreamEntry {
  const out: Array<readonly [string, Buffer]> = [];
  const text = (name: string, value: string | undefined) => {
    if (value !== undefined && value !== '') out.push([name, Buffer.from(value, 'utf8')]);
  };
  text(RecordField.op, fields.op);
  text(RecordField.key, fields.key);
  text(RecordField.table, fields.table);
  text(RecordField.ack, fields.ack);
  for (const [column, value] of fields.keyValues) out.push([`${RecordField.keyColumnPrefix}${column}`, Buffer.from(value)]);
  const nulls: string[] = [];
  for (const [column, value] of fields.columns) {
    if (value === null) nulls.push(column);
    else out.push([`${RecordField.columnPrefix}${column}`, Buffer.from(value)]);
  }
  if (nulls.length > 0) out.push([RecordField.nulls, Buffer.from(nulls.join(','), 'utf8')]);
  return { id, fields: out };
}

/** A record whose entry is built once, when first asked for (dead letters only). */
class ParsedRecord implements CaptureRecord {
  #entry: StreamEntry | (() => StreamEntry);

  constructor(
    readonly id: string,
    readonly op: RecordOpCode,
    readonly key: string,
    readonly table: string,
    readonly ack: string | undefined,
    readonly keyValues: ReadonlyMap<string, Buffer>,
    readonly columns: ReadonlyMap<string, Buffer | null>,
    entry: () => StreamEntry,
  ) {
    this.#entry = entry;
  }

  get entry(): StreamEntry {
    if (typeof this.#entry === 'function') this.#entry = this.#entry();
    return this.#entry;
  }
}
