/**
 * The runtime's mark on its standalone primary (shared/keys.ts RUNTIME_RUNNING_KEY): a runtime killed between a
 * write and its capture leaves the write uncaptured, and the mark it leaves behind tells the next runtime, which
 * counts the unclean stop for the worker to repair after. A replica writes nothing; a cluster node is not
 * covered yet (its keys would have to live under a slot the node serves).
 */
import type { Logger } from '../shared/log.js';
import { RUNTIME_RUNNING_KEY, RUNTIME_UNCLEAN_STOPS_KEY } from '../shared/keys.js';
import type { RedisConnection } from './server/redis-connection.js';

/** Marks the runtime running, counting an unclean stop when the last runtime left its mark; returns the unmarking. */
export async function markRunning(control: RedisConnection, log: Logger): Promise<() => Promise<void>> {
  const previous = await control.call(['SET', RUNTIME_RUNNING_KEY, String(process.pid), 'GET']);
  if (previous.type !== 'null') {
    const count = await control.call(['INCR', RUNTIME_UNCLEAN_STOPS_KEY]);
    log.warn({ uncleanStops: count.type === 'integer' ? Number(count.value) : null },
      'the last runtime on this redis-server did not stop cleanly: a write it passed on just before may not have been captured; a worker re-captures what MySQL disagrees with');
  }
  return async () => {
    await control.call(['DEL', RUNTIME_RUNNING_KEY]);
  };
}
