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

/** Until a row has a second change: no array per record. */
const NONE: CaptureRecord[] = [];

/** Groups records (in stream order) by (table, primary key) and keeps the last of each, in first-seen order. */
export function coalesceRecords(records: readonly CaptureRecord[]): CoalescedChange[] {
  // Rows by their identity's prefix (table and key column names: the shape's), then by their key values:
  // the common single-column key is looked up by its value's text alone, with no string built per record.
  const byPrefix = new Map<string, Map<string, { record: CaptureRecord; superseded: CaptureRecord[] }>>();
  const changes: Array<{ record: CaptureRecord; superseded: CaptureRecord[] }> = [];
  for (const record of records) {
    const { rowPrefix } = record.shape;
    let rows = byPrefix.get(rowPrefix);
    if (rows === undefined) byPrefix.set(rowPrefix, (rows = new Map()));
    const id = keyIdentity(record);
    const current = rows.get(id);
    if (current === undefined) {
      const change = { record, superseded: NONE };
      rows.set(id, change);
      changes.push(change);
    } else {
      if (current.superseded === NONE) current.superseded = [];
      current.superseded.push(current.record);
      current.record = record;
    }
  }
  return changes;
}

/**
 * The key values' part of a row's identity (the shape's rowPrefix names table and columns): unambiguous for any
 * bytes, values as latin1 (one character per byte), each length-prefixed when there are several.
 */
function keyIdentity(record: CaptureRecord): string {
  const order = record.shape.keyOrder;
  if (order.length === 1) return record.latin1(0);
  let id = '';
  for (const i of order) id += `${record.byteLength(i)}:${record.latin1(i)}`;
  return id;
}
