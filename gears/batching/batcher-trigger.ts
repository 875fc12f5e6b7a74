import { CAPTURE_STREAM_PREFIX } from '../../src/shared/keys.js';
import type { Batcher } from './batcher.js';

/** Name of the stream trigger; stable across deploys so RedisGears keeps its read positions. */
export const BATCHER_TRIGGER = 'batcher';

/**
 * Stream trigger `batcher` on `wb:changes:` (every writer's capture stream), window 1, not trimmed, synchronous.
 *
 * - fires on: every record appended to a capture stream by any path (the keyspace trigger, a backfill XADD,
 *   a TFCALL function), in id order, exactly once while the primary is up.
 * - writes: HSET `wb:meta:{<writer>}` (open, captured, last, open_since), read first with one HMGET; every
 *   `batch.size` records XADD `wb:batches:{<writer>}` `stream <s> from <id> to <id> count <n>` (creating the
 *   `workers` group with the stream) and HSET meta (cut, open 0, batches).
 * - errors: a stream that is no writer's capture stream is ignored (logged once); a thrown error is a bug and
 *   shows as the stream's `last_error` in TFUNCTION LIST.
 *
 * Not trimmed: records stay until the worker has committed them (`committed` trims).
 */
export function registerBatcherTrigger(batcher: Batcher): void {
  redis.registerStreamTrigger(BATCHER_TRIGGER, CAPTURE_STREAM_PREFIX, (client, record) => batcher.onRecord(client, record), {
    description: 'cuts the capture streams into batches for the worker',
    window: 1,
    isStreamTrimmed: false,
  });
}
