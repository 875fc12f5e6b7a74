/**
 * The batcher: counts the records of each capture stream and cuts a batch every `batch.size` records. It does
 * not copy records; a batch descriptor names an id range of the capture stream.
 *
 * Counting costs no Redis call (open-records.ts keeps the count in memory); a cut costs four (HMGET to check
 * the count against meta, EXISTS, XADD, HSET), once per batch.size records.
 */
import { compareStreamIds, formatStreamId } from '../../src/shared/stream-id.js';
import type { WriterContext, WriterContexts } from '../writer-context.js';
import { cutBatch } from './cut-batch.js';
import type { OpenRecordCounts } from './open-records.js';
import { readPersistedCursor } from './writer-meta.js';

export interface Batcher {
  /** Counts one record of a capture stream (the stream trigger's callback). */
  onRecord(client: GearsClient, record: GearsStreamRecord): void;
}

export function createBatcher(byStream: WriterContexts, counts: OpenRecordCounts, batchSize: number): Batcher {
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
      countRecord(client, writer, counts, formatStreamId(record.id), batchSize);
    },
  };
}

function countRecord(client: GearsClient, writer: WriterContext, counts: OpenRecordCounts, id: string, batchSize: number): void {
  const current = counts.current(writer);
  let open;
  if (current === undefined) {
    // The first record since this instance loaded: the count is rebuilt from the stream, through this record.
    open = counts.takeOver(client, writer, readPersistedCursor(client, writer.keys.meta), id);
  } else {
    // A record at or before the last one counted was delivered again (RedisGears re-reads a stream after a
    // failover or a re-registration); counting it twice would put it in two batches.
    if (current.last !== null && compareStreamIds(id, current.last) <= 0) return;
    open = counts.counted(writer, current, id);
  }
  if (open.open >= batchSize) cutFullBatches(client, writer, counts, id, batchSize);
}

/**
 * Cuts every full batch through `through`, each after checking the count against meta: a count that turns
 * out stale is rebuilt from the stream first, and cut only if still full.
 */
function cutFullBatches(client: GearsClient, writer: WriterContext, counts: OpenRecordCounts, through: string, batchSize: number): void {
  for (;;) {
    const open = counts.checked(client, writer, () => through);
    if (open.open < batchSize || open.last === null) return;
    cutBatch(client, writer, counts, { ...open, last: open.last });
    if (open.last === through) return;
    // The rebuilt count stopped at batch.size records before `through` (batch.size shrank): count the rest.
    counts.takeOver(client, writer, readPersistedCursor(client, writer.keys.meta), through);
  }
}
