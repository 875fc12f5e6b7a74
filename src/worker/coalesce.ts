/**
 * Coalescing: within one batch only the last change of each row matters, because every upsert carries the
 * whole row image and a delete removes it. Writing only the winners keeps a batch of hot keys to one statement
 * row per key; the superseded records share the winner's fate (their acks follow it).
 */
import type { CaptureRecord } from './capture-record.js';

export interface CoalescedChange {
  /** The last change of the row in the batch. */
  readonly record: CaptureRecord;
  /** Earlier changes of the same row in the same batch, oldest first. */
  readonly superseded: readonly CaptureRecord[];
}

/** Groups records (in stream order) by (table, primary key) and keeps the last of each, in first-seen order. */
export function coalesceRecords(records: readonly CaptureRecord[]): CoalescedChange[] {
  const byRow = new Map<string, { record: CaptureRecord; superseded: CaptureRecord[] }>();
  for (const record of records) {
    const id = rowIdentity(record);
    const current = byRow.get(id);
    if (current === undefined) byRow.set(id, { record, superseded: [] });
    else {
      current.superseded.push(current.record);
      current.record = record;
    }
  }
  return [...byRow.values()];
}

/** Table plus primary key columns and values, unambiguous for binary values (each value length-prefixed, its bytes as latin1: one character per byte). */
export function rowIdentity(record: CaptureRecord): string {
  if (record.keyValues.size === 1) {
    // The common single-column key: the same string as below, without sorting.
    for (const [column, value] of record.keyValues) return `${record.table}\u0000${column}=${value.length}:${value.toString('latin1')}`;
  }
  const parts = [...record.keyValues].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([column, value]) => `${column}=${value.length}:${value.toString('latin1')}`);
  return `${record.table}\u0000${parts.join('\u0000')}`;
}
