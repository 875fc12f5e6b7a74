/**
 * Restarts of the Redis side during the load: SIGKILL of the runtime alone, and SIGKILL of the runtime and
 * the redis-server together (appendonly yes, appendfsync always), each started again after a pause. The worker
 * keeps running and must reconnect; writes refused while things are down are the application's to retry.
 */
import { sleep } from '../../support/sleep.js';
import type { Fault } from '../chaos-round.js';

const DOWN_MS = 500;

export function runtimeRestarts(restarts: number): Fault {
  return {
    name: 'runtime / redis-server restarts (AOF)',
    async inject(env) {
      const gap = (env.seconds * 1000) / (restarts + 1);
      let runtimeOnly = 0;
      let both = 0;
      for (let r = 1; r <= restarts; r++) {
        await sleep(gap * (0.5 + Math.random()));
        await env.pipeline.killRuntime();
        const withRedis = r % 2 === 0;
        if (withRedis) await env.pipeline.redis.kill();
        await sleep(DOWN_MS);
        if (withRedis) {
          await env.pipeline.redis.start();
          both++;
        } else runtimeOnly++;
        await env.pipeline.startRuntime();
      }
      return { injected: `${runtimeOnly} runtime, ${both} runtime+redis-server SIGKILLs`, failures: [], notes: [] };
    },
  };
}
