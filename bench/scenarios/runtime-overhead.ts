/**
 * (f) RUNTIME OVERHEAD: HSET/s from the same client with the same pipelining window (a) directly on a
 * redis-server, (b) through the local runtime on keys no trigger watches (the proxy alone), (c) through the
 * runtime on captured keys (the library's keyspace trigger appends each change to the capture stream).
 * No worker runs. This measures our development runtime, not RedisGears in Redis Stack.
 */
import type { RedisClientType } from 'redis';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import { benchConfig } from '../support/bench-config.js';
import { PIPELINE_WINDOW, writeAsFastAsPossible } from '../support/hash-load.js';
import { personHashFields } from '../support/persons-table.js';
import { startPipeline } from '../support/pipeline.js';
import { startProgress } from '../support/progress.js';
import { summarize } from '../support/stats.js';

type Target = 'direct' | 'runtime-uncaptured' | 'runtime-captured';

/** Seconds per target at most, so a slow runtime bounds the run rather than --rows. */
const BUDGET_SECONDS = { full: 10, quick: 3 };

export const runtimeOverheadScenario: Scenario = {
  id: 'overhead',
  title: '(f) HSET/s: redis-server vs the local runtime',
  async run({ scale, db }: ScenarioContext): Promise<ScenarioResult> {
    const count = scale.rows;
    const rates: Record<Target, number[]> = { direct: [], 'runtime-uncaptured': [], 'runtime-captured': [] };
    for (let rep = 1; rep <= scale.reps; rep++) {
      // A fresh pipeline per repetition, so the capture stream starts empty each time.
      const pipeline = await startPipeline({ config: benchConfig(), mysqlUrl: db.url });
      try {
        const clients: Record<Target, RedisClientType> = {
          direct: await pipeline.connectDirect(),
          'runtime-uncaptured': await pipeline.connect(),
          'runtime-captured': await pipeline.connect(),
        };
        for (const target of Object.keys(rates) as Target[]) {
          const prefix = target === 'runtime-captured' ? 'person' : 'plain';
          const progress = startProgress(`overhead rep ${rep}/${scale.reps}: ${target}`, 'HSET');
          const burst = await writeAsFastAsPossible(clients[target], count, (c, i) => c.hSet(`${prefix}:${target === 'direct' ? 'd' : ''}${i + 1}`, personHashFields(i + 1)), {
            budgetSeconds: scale.quick ? BUDGET_SECONDS.quick : BUDGET_SECONDS.full,
            onProgress: (done) => progress.update(done, count),
          });
          rates[target].push(burst.done / burst.seconds);
        }
      } finally {
        await pipeline.close();
      }
    }
    return {
      id: this.id,
      title: this.title,
      figures: [
        { id: 'overhead.direct', label: 'redis-server directly', unit: 'HSET/s', summary: summarize(rates.direct), origin: 'redis-server' },
        { id: 'overhead.runtimeUncaptured', label: 'runtime, keys no trigger watches', unit: 'HSET/s', summary: summarize(rates['runtime-uncaptured']), origin: 'local-runtime' },
        { id: 'overhead.runtimeCaptured', label: 'runtime, captured keys (library loaded)', unit: 'HSET/s', summary: summarize(rates['runtime-captured']), origin: 'local-runtime' },
      ],
      notes: [`up to ${count} HSETs of 3 fields (or ${scale.quick ? BUDGET_SECONDS.quick : BUDGET_SECONDS.full} s of them) per target and repetition, one node-redis client, ${PIPELINE_WINDOW} commands in flight`],
    };
  },
};
