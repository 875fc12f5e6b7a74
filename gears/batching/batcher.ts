/**
 * The batcher: counts the records of each capture stream and cuts a batch every `batch.size` records. It does
 * not copy records; a batch descriptor names an id range of the capture stream.
 */
import { MetaField, compareStreamIds } from '../../src/shared/protocol.js';
import { replyInteger } from '../replies.js';
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
  const meta = writer.keys.meta;
  const cursor = readBatcherCursor(client, meta);
  // A record at or before the last one counted was delivered again (RedisGears re-reads a stream after a
  // failover or a re-registration); counting it twice would put it in two batches.
  if (cursor.last !== null && compareStreamIds(id, cursor.last) <= 0) return;
  const open = replyInteger(client.call('HINCRBY', meta, MetaField.open, '1'), 'HINCRBY');
  client.call('HINCRBY', meta, MetaField.captured, '1');
  if (open === 1n) client.call('HSET', meta, MetaField.last, id, MetaField.openSince, String(streamIdMs(id)));
  else client.call('HSET', meta, MetaField.last, id);
  if (open >= BigInt(batchSize)) cutBatch(client, writer, cursor.cut, id, Number(open));
}
