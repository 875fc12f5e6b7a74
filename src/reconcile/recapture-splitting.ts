/**
 * Re-capture through the library with a call the lock timeout killed split until the key it was for goes alone.
 * A TFCALL runs under lock-redis-timeout: one hash too big to read and append in that time kills its whole call.
 * Before, that failed every key of its page, and every run after it (the worker's repair after an unclean
 * runtime stop retried it forever), so the keys next to it never reached MySQL. Now only that key is left out,
 * returned for the caller to name. A halved group may capture a key twice (a killed call keeps what it appended,
 * and on a cluster one call per slot log): an image captured twice is written once more, the same row.
 */
import { errorMessage } from '../shared/errors.js';
import { zeroCounts, type RecaptureCounts } from '../shared/protocol.js';
import { addCounts, type ReconcileRedis } from './reconcile-redis.js';
import type { WriterTarget } from './writer-target.js';

/** What RedisGears (and the runtime) answer for a call killed by lock-redis-timeout or the isolate's memory limit. */
const KILLED = 'Execution was terminated due to OOM or timeout';

export interface SplitRecapture extends RecaptureCounts {
  /** Keys whose re-capture, alone, was killed: not captured. */
  readonly killed: readonly string[];
}

/**
 * Keys per repair call (verify --repair, dlq replay): short enough to hold Redis' lock briefly even on the local
 * runtime (~1 ms a key).
 */
export const REPAIR_PAGE = 25;

/** Remedy to print with killed keys. */
export const KILLED_HINT = 'its re-capture outlasts lock-redis-timeout: raise it (writebehind runtime --lock-timeout, or CONFIG SET redisgears_2.lock-redis-timeout) or shrink the hash';

export async function recaptureSplitting(redis: ReconcileRedis, target: WriterTarget, fn: string, keys: readonly string[]): Promise<SplitRecapture> {
  const total = zeroCounts();
  const killed: string[] = [];
  const groups: (readonly string[])[] = [keys];
  while (groups.length > 0) {
    const group = groups.pop()!;
    if (group.length === 0) continue;
    try {
      addCounts(total, await redis.recapture(target, fn, group));
    } catch (error) {
      if (!errorMessage(error).includes(KILLED)) throw error;
      if (group.length === 1) killed.push(group[0]!);
      else {
        const half = Math.ceil(group.length / 2);
        groups.push(group.slice(half), group.slice(0, half));
      }
    }
  }
  return { ...total, killed };
}
