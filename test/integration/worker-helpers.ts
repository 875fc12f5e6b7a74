/** Builders shared by the worker's integration tests: capture entries as the library writes them. */
import type { CaptureRecord } from '../../src/worker/capture-record.js';
import { parseCaptureEntry } from '../../src/worker/capture-entry.js';
import type { StreamEntry } from '../../src/worker/redis/stream-entry.js';

export interface RecordSpec {
  op?: 'u' | 'd';
  key: string;
  table: string;
  ack?: string;
  keys: Record<string, string | Buffer>;
  columns?: Record<string, string | Buffer | null>;
}

/** The field/value pairs of a capture entry, in the library's order. */
export function captureFields(spec: RecordSpec): Array<[string, Buffer]> {
  const fields: Array<[string, Buffer]> = [
    ['op', Buffer.from(spec.op ?? 'u')],
    ['key', Buffer.from(spec.key)],
    ['table', Buffer.from(spec.table)],
  ];
  if (spec.ack !== undefined) fields.push(['ack', Buffer.from(spec.ack)]);
  for (const [column, value] of Object.entries(spec.keys)) fields.push([`k:${column}`, Buffer.from(value)]);
  const nulls: string[] = [];
  for (const [column, value] of Object.entries(spec.columns ?? {})) {
    if (value === null) nulls.push(column);
    else fields.push([`c:${column}`, Buffer.from(value)]);
  }
  if (nulls.length > 0) fields.push(['null', Buffer.from(nulls.join(','))]);
  return fields;
}

export function captureEntry(id: string, spec: RecordSpec): StreamEntry {
  return { id, fields: captureFields(spec) };
}

export function captureRecord(id: string, spec: RecordSpec): CaptureRecord {
  const parsed = parseCaptureEntry(captureEntry(id, spec));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.record;
}

/** `person:<id>` upsert record of the example config. */
export function person(id: string, seq: number, columns: Record<string, string | null>, ack?: string): CaptureRecord {
  return captureRecord(`1000-${seq}`, { key: `person:${id}`, table: 'persons', keys: { person_id: id }, columns, ...(ack === undefined ? {} : { ack }) });
}

export function personDeleted(id: string, seq: number): CaptureRecord {
  return captureRecord(`1000-${seq}`, { op: 'd', key: `person:${id}`, table: 'persons', keys: { person_id: id } });
}
