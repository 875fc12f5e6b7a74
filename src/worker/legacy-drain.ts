/**
 * The wait that keeps each key's order when a writer goes from one capture log to partitions: the previous
 * library captured a key's older changes into the unpartitioned log `wb:changes:{W}`, the partitioned one
 * captures its newer changes into the key's partition, so no partition may be written before the unpartitioned
 * log is drained (docs/scale-out.md, the previous backlog drains first). Its own loop drains it meanwhile; it
 * receives nothing new, so once drained it stays drained.
 */
import type { StreamKeys } from '../shared/keys.js';
import { sleep } from './backoff.js';
import type { StreamClient } from './redis/stream-client.js';

/**
 * Resolves true once `legacy` holds no captured record and no batch descriptor (`committed` trims both, so
 * empty streams mean every record was committed), false when `signal` aborts first. A failed read is retried
 * at the next poll: until it succeeds the partitions wait, as order asks.
 */
export async function legacyDrained(client: StreamClient, legacy: StreamKeys, pollMs: number, signal: AbortSignal, onWait: (backlog: number) => void): Promise<boolean> {
  let told = false;
  while (!signal.aborted) {
    try {
      const backlog = await client.length(legacy.changes);
      if (backlog === 0 && (await client.length(legacy.batches)) === 0) return true;
      if (!told) onWait(backlog);
      told = true;
    } catch {
      // Redis unreachable: the loops report it; look again.
    }
    if (!(await sleep(pollMs, signal))) break;
  }
  return false;
}
