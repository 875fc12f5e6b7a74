import { streamIdMs } from '../../src/shared/stream-id.js';
import { LibraryFunction } from '../../src/shared/protocol.js';
import { cutBatch } from '../batching/cut-batch.js';
import type { OpenRecordCounts } from '../batching/open-records.js';
import { decodeUtf8 } from '../bytes.js';
import { serverTimeMs } from '../redis-time.js';
import { replyArray } from '../replies.js';
import type { WriterContext, WriterContexts } from '../writer-context.js';
import { expectArgumentCount, nonNegativeIntegerArgument, writerOfStream } from './function-arguments.js';

/**
 * TFCALL <lib>.cut 1 <capture stream> <maxDelayMs>
 *
 * Cuts a partial batch when records are open (counted since the last cut) and the oldest of them has waited at
 * least maxDelayMs by the server clock (TIME − the ms of its stream id). The count is the batcher's, checked
 * against meta first (rebuilt from the stream when stale). The worker calls it with 0 (whatever is open) when it
 * has nothing in hand, and on a timer with batch.maxDelayMs, so records never wait longer than about that.
 *
 * - keys: the capture stream `wb:changes:{<writer>}`
 * - args: maxDelayMs, a non-negative integer
 * - reply: the new batch descriptor's id (bulk string), or null when nothing was cut
 * - errors: "ERR cut: ..." for a wrong argument count, a stream that is no writer's capture stream, or a
 *   maxDelayMs that is not a non-negative integer
 */
export function registerCutFunction(writers: WriterContexts, counts: OpenRecordCounts): void {
  redis.registerFunction(LibraryFunction.cut, (client, ...args) => cutIfDue(client, writers, counts, args), {
    description: 'cuts a partial batch of a capture stream whose oldest open record waited maxDelayMs',
  });
}

function cutIfDue(client: GearsClient, writers: WriterContexts, counts: OpenRecordCounts, args: string[]): string | null {
  const fn = LibraryFunction.cut;
  expectArgumentCount(fn, args, ['capture stream', 'maxDelayMs']);
  const [stream, maxDelay] = args as [string, string];
  const writer = writerOfStream(fn, writers, stream);
  return cutWhenDue(client, writer, counts, nonNegativeIntegerArgument(fn, 'maxDelayMs', maxDelay));
}

/**
 * Cuts the open records of `writer` when the oldest waited maxDelayMs; the descriptor's id, or null. `now`: the
 * server clock already read by the caller (one TIME for many logs), else read here.
 */
export function cutWhenDue(client: GearsClient, writer: WriterContext, counts: OpenRecordCounts, maxDelayMs: number, now?: number): string | null {
  const open = counts.checked(client, writer, () => lastRecordId(client, writer));
  if (open.open <= 0 || open.last === null || open.firstOpen === null) return null;
  const waited = (now ?? serverTimeMs(client)) - streamIdMs(open.firstOpen);
  if (waited < maxDelayMs) return null;
  return cutBatch(client, writer, counts, { ...open, last: open.last });
}

/** The id of the capture stream's last entry, or null when it is empty. */
export function lastRecordId(client: GearsClient, writer: WriterContext): string | null {
  const [entry] = replyArray(client.callRaw('XREVRANGE', writer.keys.changes, '+', '-', 'COUNT', '1'), 'XREVRANGE');
  if (entry === undefined) return null;
  const id = replyArray(entry, 'XREVRANGE')[0];
  return id instanceof ArrayBuffer ? decodeUtf8(id) : null;
}
