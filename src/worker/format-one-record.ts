/**
 * Record format 1 (a field per part: `op`, `key`, `table`, `ack`, `k:<column>`, `c:<column>`, `null`), written
 * by earlier libraries and still the form of dead letters and `dlq replay`: read from a decoded entry, its
 * values are the entry's.
 *
 * @internal
 */
import { RecordField, RecordOp, type RecordOpCode } from '../shared/protocol.js';
import { MALFORMED, utf8Text, type CaptureRecord } from './capture-record.js';
import { internShape, type RecordShape } from './record-shape.js';
import type { StreamEntry } from './redis/stream-entry.js';

/** The record, or why it is malformed. */
export function readFormatOne(entry: StreamEntry): CaptureRecord | string {
  let op: string | undefined;
  let key: string | undefined;
  let table: string | undefined;
  let ack: string | undefined;
  let nulls = '';
  // Maps: a field given twice counts once, its last value (as format 1 was always read).
  const keyValues = new Map<string, Buffer>();
  const columns = new Map<string, Buffer | null>();
  for (const [name, value] of entry.fields) {
    if (name === RecordField.op) op = value.toString('utf8');
    else if (name === RecordField.key) key = value.toString('utf8');
    else if (name === RecordField.table) table = value.toString('utf8');
    else if (name === RecordField.ack) ack = value.toString('utf8');
    else if (name === RecordField.nulls) nulls = value.toString('utf8');
    else if (name.startsWith(RecordField.keyColumnPrefix)) keyValues.set(name.slice(RecordField.keyColumnPrefix.length), value);
    else if (name.startsWith(RecordField.columnPrefix)) columns.set(name.slice(RecordField.columnPrefix.length), value);
    // Unknown fields are ignored, so a newer library can add fields without stalling an older worker.
  }
  if (op !== RecordOp.upsert && op !== RecordOp.delete) return `${MALFORMED}op '${op ?? ''}' is neither 'u' nor 'd'`;
  if (key === undefined || key === '') return `${MALFORMED}no '${RecordField.key}' field`;
  if (table === undefined || table === '') return `${MALFORMED}no '${RecordField.table}' field`;
  if (keyValues.size === 0) return `${MALFORMED}no primary key field (k:<column>)`;
  if (nulls !== '') {
    for (const column of nulls.split(',')) {
      if (columns.has(column)) return `${MALFORMED}column '${column}' is both set and listed as NULL`;
      columns.set(column, null);
    }
  }
  if (op === RecordOp.upsert && columns.size === 0) return `${MALFORMED}an upsert with no columns`;
  if (op === RecordOp.delete) columns.clear();
  const shape = internShape(table, [...keyValues.keys()], [...columns.keys()]);
  if (typeof shape === 'string') return shape;
  return new FieldRecord(entry, op, key, ack === '' ? undefined : ack, shape, [...keyValues.values(), ...columns.values()]);
}

/** A format-1 record: its values are the entry's. */
class FieldRecord implements CaptureRecord {
  constructor(
    readonly entry: StreamEntry,
    readonly op: RecordOpCode,
    readonly key: string,
    readonly ack: string | undefined,
    readonly shape: RecordShape,
    readonly values: readonly (Buffer | null)[],
  ) {}

  get id(): string {
    return this.entry.id;
  }

  get table(): string {
    return this.shape.table;
  }

  value(i: number): Buffer | null {
    return this.values[i] ?? null;
  }

  text(i: number): string | null | undefined {
    const value = this.values[i] ?? null;
    return value === null ? null : utf8Text(value, 0, value.length);
  }

  latin1(i: number): string {
    return this.values[i]?.toString('latin1') ?? '';
  }

  byteLength(i: number): number {
    return this.values[i]?.length ?? -1;
  }
}
