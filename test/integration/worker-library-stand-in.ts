/**
 * For worker tests on a plain redis-server (no RedisGears): a StreamClient whose `committed` and `cut` do
 * what the library's functions do, with the same commands, and everything else goes to Redis unchanged.
 * The end-to-end pipeline tests use the real library on the runtime instead.
 */
import { compareStreamIds, nextStreamId } from '../../src/shared/stream-id.js';
import { createClient } from 'redis';
import { WORKER_GROUP } from '../../src/shared/keys.js';
import { LibraryFunction, MetaField } from '../../src/shared/protocol.js';
import { writerOfCaptureStream, writerKeys } from '../../src/shared/keys.js';
import { RedisStreamClient } from '../../src/worker/redis/redis-stream-client.js';
import type { StreamClient } from '../../src/worker/redis/stream-client.js';

export interface StandInHooks {
  /** Called before `committed` runs; throw to make it fail. */
  beforeCommitted?: (descriptorId: string) => void;
  /** Called once `committed` has done its work, the cursor moved last. */
  afterCommitted?: (descriptorId: string) => void;
  /** Called on every `cut` the worker offers (which the stand-in answers with null). */
  onCut?: () => void;
}

export async function connectWithLibraryStandIn(url: string, hooks: StandInHooks = {}): Promise<StreamClient> {
  const client = await RedisStreamClient.connect(url);
  const raw = createClient({ url });
  raw.on('error', () => undefined);
  await raw.connect();
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'close') return async () => { await raw.close(); await target.close(); };
      if (property !== 'callFunction') {
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      }
      return async (_library: string, fn: string, keys: readonly string[], args: readonly string[]) => {
        if (fn === LibraryFunction.cut) {
          hooks.onCut?.();
          return null; // tests cut batches themselves
        }
        if (fn !== LibraryFunction.committed) throw new Error(`stand-in has no function ${fn}`);
        const [stream, batches] = keys as [string, string];
        const [descriptor, last, rows] = args as [string, string, string];
        hooks.beforeCommitted?.(descriptor);
        const meta = writerKeys(writerOfCaptureStream(stream)!).meta;
        const previous = await raw.hGet(meta, MetaField.committed);
        const committed = previous != null && compareStreamIds(previous, last) >= 0 ? previous : last;
        await raw.sendCommand(['XTRIM', stream, 'MINID', nextStreamId(committed)]);
        await raw.sendCommand(['XACK', batches, WORKER_GROUP, descriptor]);
        const removed = Number(await raw.sendCommand(['XDEL', batches, descriptor]));
        if (removed > 0) await raw.hIncrBy(meta, MetaField.committedRows, Number(rows));
        // The cursor last: the library's function does all of this at once, so a test that sees the cursor move
        // must find the rest done too.
        await raw.hSet(meta, MetaField.committed, committed);
        hooks.afterCommitted?.(descriptor);
        return committed;
      };
    },
  });
}
