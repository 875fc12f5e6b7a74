/**
 * The batcher: counts the records of each capture stream and cuts a batch every `batch.size` records. It does
 * not copy records; a batch descriptor names an id range of the capture stream.
 */
import { MetaField, compareStreamIds } from '../../src/shared/protocol.js';
import { formatStreamId, streamIdMs } from '../stream-id.js';
import type { WriterContext } from '../writer-context.js';
import { cutBatch } from './cut-batch.js';
import { readBatcherCursor } from './writer-meta.js';

export interface Batcher {
  /** Counts one record of a capture stream (the stream trigger's callback). */
  onRecord(client: GearsClient, record: GearsStreamRecord): void;
}

export function createBatcher(writers: readonly WriterContext[], batchSize: number): Batcher {
  const byStream = new Map(writers.map((writer) => [writer.keys.changes, writer] as const));
  const reportedUnknown = new Set<string>();
  return {
    onRecord(client, record) {
      const stream = record.stream_name;
      const writer = stream === null ? undefined : byStream.get(stream);
      if (stream === null || writer === undefined) {
        // A stream under the prefix that no writer of this config owns (e.g. left by a removed writer).
        const name = stream ?? '(binary name)';
        if (!reportedUnknown.has(name)) {
          reportedUnknown.add(name);
          redis.log(`writebehind batcher: ignoring ${name}, not the capture stream of a configured writer`);
        }
        return;
      }
      countRecord(client, writer, formatStreamId(record.id), batchSize);
    },
  };
}

function countRecord(client: GearsClient, writer: WriterContext, id: string, batchSize: number): void {
  const cursor = readBatcherCursor(client, writer.keys.meta);
  // A record at or before the last one counted was delivered again (RedisGears re-reads a stream after a
  // failover or a re-registration); counting it twice would put it in two batches.
  if (cursor.last !== null && compareStreamIds(id, cursor.last) <= 0) return;
  const open = cursor.open + 1;
  const counters = [MetaField.captured, String(cursor.captured + 1), MetaField.last, id];
  if (open >= batchSize) {
    cutBatch(client, writer, cursor, id, open, counters);
    return;
  }
  if (open === 1) counters.push(MetaField.openSince, String(streamIdMs(id)));
  client.call('HSET', writer.keys.meta, MetaField.open, String(open), ...counters);
}
