/**
 * Worker SIGKILLs during the load. Odd kills restart under the same consumer name (the restarted worker
 * replays its own pending batch at once); even kills start a worker under a new name, which must reclaim the
 * dead consumer's batch after CHAOS_CLAIM_MIN_IDLE_MS. Kills land wherever the worker happens to be:
 * mid-transaction, between COMMIT and the `committed` call, or idle.
 */
import { sleep } from '../../support/sleep.js';
import type { Fault } from '../chaos-round.js';

export function workerKills(kills: number): Fault {
  return {
    name: 'worker SIGKILL',
    async inject(env) {
      const gap = (env.seconds * 1000) / (kills + 1);
      let consumer = 'chaos-1';
      for (let k = 1; k <= kills; k++) {
        // Jitter, so kills do not line up with the batch rhythm.
        await sleep(gap * (0.5 + Math.random()));
        env.worker.signal('SIGKILL');
        await env.worker.exited;
        if (k % 2 === 0) consumer = `chaos-${k}`;
        env.worker = env.startWorker(consumer);
      }
      return { injected: `${kills} SIGKILLs`, failures: [], notes: [`restarts alternate same consumer (replay) / new consumer (reclaim after idle)`] };
    },
  };
}
