import { LibraryFunction } from '../../src/shared/protocol.js';
import { cutBatch } from '../batching/cut-batch.js';
import { readBatcherCursor } from '../batching/writer-meta.js';
import { serverTimeMs } from '../redis-time.js';
import type { WriterContext } from '../writer-context.js';
import { expectArgumentCount, nonNegativeIntegerArgument, writerOfStream } from './function-arguments.js';

/**
 * TFCALL <lib>.cut 1 <capture stream> <maxDelayMs>
 *
 * Cuts a partial batch when records are open (counted since the last cut) and the oldest of them has waited at
 * least maxDelayMs by the server clock (TIME − open_since). The worker calls it on a timer, so records never
 * wait longer than about batch.maxDelayMs for a full batch; 0 cuts whatever is open.
 *
 * - keys: the capture stream `wb:changes:{<writer>}`
 * - args: maxDelayMs, a non-negative integer
 * - reply: the new batch descriptor's id (bulk string), or null when nothing was cut
 * - errors: "ERR cut: ..." for a wrong argument count, a stream that is no writer's capture stream, or a
 *   maxDelayMs that is not a non-negative integer
 */
export function registerCutFunction(writers: ReadonlyMap<string, WriterContext>): void {
  redis.registerFunction(LibraryFunction.cut, (client, ...args) => cutIfDue(client, writers, args), {
    description: 'cuts a partial batch of a capture stream whose oldest open record waited maxDelayMs',
  });
}

function cutIfDue(client: GearsClient, writers: ReadonlyMap<string, WriterContext>, args: string[]): string | null {
  const fn = LibraryFunction.cut;
  expectArgumentCount(fn, args, ['capture stream', 'maxDelayMs']);
  const [stream, maxDelay] = args as [string, string];
  const writer = writerOfStream(fn, writers, stream);
  const maxDelayMs = nonNegativeIntegerArgument(fn, 'maxDelayMs', maxDelay);
  const cursor = readBatcherCursor(client, writer.keys.meta);
  if (cursor.open <= 0 || cursor.last === null) return null;
  const waited = serverTimeMs(client) - (cursor.openSince ?? 0);
  if (waited < maxDelayMs) return null;
  return cutBatch(client, writer, cursor, cursor.last, cursor.open);
}
