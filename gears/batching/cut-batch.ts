/**
 * Cutting a batch: publish a descriptor of the records counted since the previous cut, and move the persisted
 * cursor. Shared by the batcher (a full batch) and the `cut` function (a partial batch that waited long enough).
 */
import { WORKER_GROUP } from '../../src/shared/keys.js';
import { BatchField, MetaField } from '../../src/shared/protocol.js';
import { replyString } from '../replies.js';
import type { WriterContext } from '../writer-context.js';
import type { OpenRecordCounts, OpenRecords } from './open-records.js';
import type { PersistedCursor } from './writer-meta.js';

/** The stream id batches of a writer start after. */
export const FIRST_BATCH_FROM = '0-0';

/**
 * Appends `stream <capture stream> from <cut or 0-0> to <last open record> count <open> config <stamp>` to the writer's
 * batches stream, writes the new cursor to meta in the same callback, and returns the descriptor's id. The
 * descriptor covers the records with from < id ≤ to; `open` must come from OpenRecordCounts.checked (or the
 * batcher's own count), so `from` is the persisted cut.
 */
export function cutBatch(client: GearsClient, writer: WriterContext, counts: OpenRecordCounts, open: OpenRecords & { readonly last: string }): string {
  const { persisted } = open;
  if (persisted.batches === 0) ensureWorkerGroup(client, writer.keys.batches);
  const id = replyString(
    client.call('XADD', writer.keys.batches, '*',
      BatchField.stream, writer.keys.changes,
      BatchField.from, persisted.cut ?? FIRST_BATCH_FROM,
      BatchField.to, open.last,
      BatchField.count, String(open.open),
      BatchField.config, writer.stamp),
    'XADD',
  );
  const next: PersistedCursor = { cut: open.last, batches: persisted.batches + 1, captured: persisted.captured + open.open, epoch: persisted.epoch };
  client.call('HSET', writer.keys.meta, MetaField.cut, open.last, MetaField.batches, String(next.batches), MetaField.captured, String(next.captured));
  counts.cutAt(writer, next, open.last);
  return id;
}

/**
 * Creates the `workers` group, reading from the start, together with the batches stream: a worker that starts
 * later still gets every descriptor. Only at a log's first batch (meta counts none: a new log, or its keys
 * flushed), so a cut costs no lookup; a group deleted on its own later is made again by the worker when it reads
 * (NOGROUP), from the start as here. The worker may have made it first (BUSYGROUP).
 */
function ensureWorkerGroup(client: GearsClient, batches: string): void {
  try {
    client.call('XGROUP', 'CREATE', batches, WORKER_GROUP, '0', 'MKSTREAM');
  } catch (error) {
    if (!String(error).includes('BUSYGROUP')) throw error;
  }
}
