/**
 * Cutting a batch: publish a descriptor of the records counted since the previous cut, and move the cursor.
 * Shared by the batcher (a full batch) and the `cut` function (a partial batch that waited long enough).
 */
import { WORKER_GROUP } from '../../src/shared/keys.js';
import { BatchField, MetaField } from '../../src/shared/protocol.js';
import { replyInteger, replyString } from '../replies.js';
import type { WriterContext } from '../writer-context.js';
import type { BatcherCursor } from './writer-meta.js';

/** The stream id batches of a writer start after. */
export const FIRST_BATCH_FROM = '0-0';

/**
 * Appends `stream <capture stream> from <previous cut or 0-0> to <to> count <count>` to the writer's batches
 * stream and returns the descriptor's id. The descriptor covers the records with from < id ≤ to.
 * `extraMeta` are further meta fields to write in the same HSET (the batcher's counters).
 */
export function cutBatch(client: GearsClient, writer: WriterContext, cursor: Pick<BatcherCursor, 'cut' | 'batches'>, to: string, count: number, extraMeta: string[] = []): string {
  ensureWorkerGroup(client, writer.keys.batches);
  const id = replyString(
    client.call('XADD', writer.keys.batches, '*',
      BatchField.stream, writer.keys.changes,
      BatchField.from, cursor.cut ?? FIRST_BATCH_FROM,
      BatchField.to, to,
      BatchField.count, String(count)),
    'XADD',
  );
  client.call('HSET', writer.keys.meta, MetaField.cut, to, MetaField.open, '0', MetaField.batches, String(cursor.batches + 1), ...extraMeta);
  client.call('HDEL', writer.keys.meta, MetaField.openSince);
  return id;
}

/**
 * Creates the `workers` group, reading from the start, together with the batches stream: a worker that starts
 * later still gets every descriptor. The worker may create it too (MKSTREAM, BUSYGROUP ignored).
 */
function ensureWorkerGroup(client: GearsClient, batches: string): void {
  if (replyInteger(client.call('EXISTS', batches), 'EXISTS') === 1n) return;
  client.call('XGROUP', 'CREATE', batches, WORKER_GROUP, '0', 'MKSTREAM');
}
