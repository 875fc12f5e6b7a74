/**
 * (f) RUNTIME OVERHEAD, with redis-benchmark as the load generator (16 connections, random keys of 100,000):
 * - captured HSETs, unpipelined: a plain redis-server, then the runtime with the library deployed and no worker,
 *   once fronting redis-server by loopback TCP and once by its Unix socket;
 * - pass-through of HSETs on keys no trigger watches, pipelined 16 deep: redis-server, then the runtime.
 * This measures our runtime, not RedisGears in Redis Stack.
 */
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import { benchConfig } from '../support/bench-config.js';
import { startPipeline } from '../support/pipeline.js';
import { redisBenchmark } from '../support/redis-benchmark.js';
import { startRedisServerProcess } from '../support/redis-server-process.js';
import { summarize } from '../support/stats.js';

const CLIENTS = 16;
const PIPELINED = 16;
const CAPTURED = ['HSET', 'person:__rand_int__', 'first_name', 'x'];
const UNWATCHED = ['HSET', 'plain:__rand_int__', 'first_name', 'x'];

type Target = 'direct' | 'runtimeCaptured' | 'runtimeCapturedUnix' | 'directPipelined' | 'runtimeUncapturedPipelined';

export const runtimeOverheadScenario: Scenario = {
  id: 'overhead',
  title: '(f) HSET/s: redis-server vs the local runtime (redis-benchmark -c 16)',
  async run({ scale, db }: ScenarioContext): Promise<ScenarioResult> {
    const captured = Math.min(scale.rows, scale.quick ? 5_000 : 20_000);
    const direct = captured * 10;
    const rates: Record<Target, number[]> = { direct: [], runtimeCaptured: [], runtimeCapturedUnix: [], directPipelined: [], runtimeUncapturedPipelined: [] };
    const bench = (port: number, requests: number, pipeline: number, command: string[]) => redisBenchmark({ port, clients: CLIENTS, requests, pipeline, command });
    for (let rep = 1; rep <= scale.reps; rep++) {
      process.stderr.write(`  [overhead rep ${rep}/${scale.reps}] redis-server\n`);
      // A plain server, as an application's Redis without the runtime: no keyspace notifications.
      const plain = await startRedisServerProcess();
      try {
        rates.direct.push(await bench(plain.port, direct, 1, CAPTURED));
        rates.directPipelined.push(await bench(plain.port, direct * 4, PIPELINED, UNWATCHED));
      } finally {
        await plain.close();
      }
      for (const unixSocket of [false, true]) {
        process.stderr.write(`  [overhead rep ${rep}/${scale.reps}] runtime over ${unixSocket ? 'a Unix socket' : 'loopback TCP'}\n`);
        const pipeline = await startPipeline({ config: benchConfig(), mysqlUrl: db.url, unixSocket });
        try {
          const port = Number(new URL(pipeline.runtimeUrl).port);
          (unixSocket ? rates.runtimeCapturedUnix : rates.runtimeCaptured).push(await bench(port, captured, 1, CAPTURED));
          if (!unixSocket) rates.runtimeUncapturedPipelined.push(await bench(port, direct, PIPELINED, UNWATCHED));
        } finally {
          await pipeline.close();
        }
      }
    }
    return {
      id: this.id,
      title: this.title,
      figures: [
        { id: 'overhead.direct', label: 'redis-server, HSET', unit: 'HSET/s', summary: summarize(rates.direct), origin: 'redis-server' },
        { id: 'overhead.runtimeCaptured', label: 'runtime (TCP to redis-server), captured HSET', unit: 'HSET/s', summary: summarize(rates.runtimeCaptured), origin: 'local-runtime' },
        { id: 'overhead.runtimeCapturedUnix', label: 'runtime (Unix socket to redis-server), captured HSET', unit: 'HSET/s', summary: summarize(rates.runtimeCapturedUnix), origin: 'local-runtime' },
        { id: 'overhead.directPipelined', label: 'redis-server, HSET -P 16', unit: 'HSET/s', summary: summarize(rates.directPipelined), origin: 'redis-server' },
        { id: 'overhead.runtimeUncapturedPipelined', label: 'runtime, unwatched keys, HSET -P 16', unit: 'HSET/s', summary: summarize(rates.runtimeUncapturedPipelined), origin: 'local-runtime' },
      ],
      notes: [`redis-benchmark -c ${CLIENTS} -r 100000: ${captured} captured HSETs per runtime run, ${direct} on redis-server; pass-through ${direct} (runtime) and ${direct * 4} (redis-server) HSETs -P ${PIPELINED}; the library deployed, no worker`],
    };
  },
};
