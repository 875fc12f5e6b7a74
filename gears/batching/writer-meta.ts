/**
 * The writer's meta hash `wb:meta:{<writer>}`: the batcher's cursors (open, open_since, last, cut) and counters
 * (captured, batches), the commit cursor and the worker's counters. Values are decimal integers or stream
 * ids, stored as strings.
 *
 * The batcher reads its fields with one HMGET and writes them back with one HSET: a trigger callback runs
 * atomically, so read-modify-write is safe, and two calls per record are cheaper than a call per counter.
 */
import { MetaField } from '../../src/shared/protocol.js';
import { replyArray, replyOptionalString } from '../replies.js';

export interface BatcherCursor {
  /** Records counted since the last cut. */
  readonly open: number;
  /** Stream-id ms of the first of those records, or null when none is open. */
  readonly openSince: number | null;
  /** Id of the last record counted, or null before the first. */
  readonly last: string | null;
  /** Id the last batch ended at, or null before the first batch. */
  readonly cut: string | null;
  /** Records counted, ever. */
  readonly captured: number;
  /** Batches cut, ever. */
  readonly batches: number;
}

const CURSOR_FIELDS = [MetaField.open, MetaField.openSince, MetaField.last, MetaField.cut, MetaField.captured, MetaField.batches];

export function readBatcherCursor(client: GearsClient, meta: string): BatcherCursor {
  const values = replyArray(client.call('HMGET', meta, ...CURSOR_FIELDS), 'HMGET').map((value) => replyOptionalString(value, 'HMGET'));
  const [open, openSince, last, cut, captured, batches] = values;
  return {
    open: open == null ? 0 : Number(open),
    openSince: openSince == null ? null : Number(openSince),
    last: last ?? null,
    cut: cut ?? null,
    captured: captured == null ? 0 : Number(captured),
    batches: batches == null ? 0 : Number(batches),
  };
}
