/**
 * The writer's meta hash `wb:meta:{<writer>}`: the batcher's cursors (open, open_since, last, cut), the commit
 * cursor and the counters. All values are decimal integers or stream ids, stored as strings.
 */
import { MetaField } from '../../src/shared/protocol.js';
import { replyOptionalString } from '../replies.js';

export interface BatcherCursor {
  /** Records counted since the last cut. */
  readonly open: number;
  /** Stream-id ms of the first of those records, or null when none is open. */
  readonly openSince: number | null;
  /** Id of the last record counted, or null before the first. */
  readonly last: string | null;
  /** Id the last batch ended at, or null before the first batch. */
  readonly cut: string | null;
}

export function readBatcherCursor(client: GearsClient, meta: string): BatcherCursor {
  const reply = client.call('HMGET', meta, MetaField.open, MetaField.openSince, MetaField.last, MetaField.cut);
  const [open, openSince, last, cut] = Array.isArray(reply) ? reply.map((value) => replyOptionalString(value, 'HMGET')) : [];
  return {
    open: open == null ? 0 : Number(open),
    openSince: openSince == null ? null : Number(openSince),
    last: last ?? null,
    cut: cut ?? null,
  };
}
