import { CAPTURE_STREAM_PREFIX } from '../../src/shared/keys.js';
import type { Batcher } from './batcher.js';

/** Name of the stream trigger; stable across deploys so RedisGears keeps its read positions. */
export const BATCHER_TRIGGER = 'batcher';

/**
 * Stream trigger `batcher` on `wb:changes:` (every writer's capture stream), window 1, not trimmed, synchronous.
 *
 * - fires on: every record appended to a capture stream by any path (the keyspace trigger, a backfill XADD,
 *   a TFCALL function), in id order, exactly once while the primary is up.
 * - writes: per record nothing (the count since the last cut is kept in memory, see open-records.ts); every
 *   `batch.size` records, after one HMGET of meta to check that count, XADD `wb:batches:{<writer>}`
 *   `stream <s> from <id> to <id> count <n>` (creating the `workers` group with the stream) and HSET meta
 *   (cut, batches, captured). After a load it rebuilds the count from the stream (XRANGE after `cut`) and
 *   writes its epoch to meta (HSET).
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
