/**
 * (c) WORKER DRAIN: N hashes written through the runtime while no worker runs (so N changes wait, captured and
 * cut into batches), then one worker process started: rows committed per second until MySQL holds all N.
 * The rate counts from the first committed row to the last (the ceiling excludes connection set-up too); the
 * rate from the worker's spawn, start-up included, is reported beside it.
 */
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import { benchConfig } from '../support/bench-config.js';
import { writeAsFastAsPossible } from '../support/hash-load.js';
import { personHashFields, PERSONS_TABLE } from '../support/persons-table.js';
import { resetPersons } from '../support/persons-reset.js';
import { startPipeline } from '../support/pipeline.js';
import { startProgress } from '../support/progress.js';
import { sleep } from '../support/sleep.js';
import { summarize } from '../support/stats.js';
import { waitFor } from '../support/wait.js';
import { readWriterCounters } from '../support/writer-meta.js';

const POLL_MS = 20;

export const workerDrainScenario: Scenario = {
  id: 'drain',
  title: '(c) worker drain of a captured backlog',
  async run({ scale, db }: ScenarioContext): Promise<ScenarioResult> {
    const fromFirstRow: number[] = [];
    const fromSpawn: number[] = [];
    for (let rep = 1; rep <= scale.reps; rep++) {
      await resetPersons(db);
      const pipeline = await startPipeline({ config: benchConfig(), mysqlUrl: db.url });
      try {
        const client = await pipeline.connect();
        const load = startProgress(`drain rep ${rep}/${scale.reps}: capture`, 'HSET');
        await writeAsFastAsPossible(client, scale.rows, (c, i) => c.hSet(`person:${i + 1}`, personHashFields(i + 1)), (done) => load.update(done, scale.rows));
        await waitFor('every change captured', async () => (await readWriterCounters(client)).captured >= scale.rows, 60_000);

        const progress = startProgress(`drain rep ${rep}/${scale.reps}: drain`, 'rows');
        const spawned = performance.now();
        const worker = pipeline.startWorker();
        let firstAt = 0;
        let firstCount = 0;
        for (;;) {
          const [rows] = await db.admin.query(`SELECT COUNT(*) AS n FROM ${PERSONS_TABLE}`);
          const count = Number((rows as Array<{ n: number }>)[0]!.n);
          const now = performance.now();
          if (count > 0 && firstAt === 0) {
            firstAt = now;
            firstCount = count;
          }
          progress.update(count, scale.rows);
          if (count >= scale.rows) {
            fromSpawn.push(scale.rows / ((now - spawned) / 1000));
            // With the whole backlog committed in one poll interval there is no interval to measure.
            if (count > firstCount) fromFirstRow.push((count - firstCount) / ((now - firstAt) / 1000));
            break;
          }
          if (!worker.isRunning()) throw new Error(`the worker exited during the drain:\n${worker.tail()}`);
          await sleep(POLL_MS);
        }
        await worker.stop();
      } finally {
        await pipeline.close();
      }
    }
    return {
      id: this.id,
      title: this.title,
      figures: [
        { id: 'drain.rowsPerSecond', label: 'rows/s, first row to last', unit: 'rows/s', summary: summarize(fromFirstRow), origin: 'local-runtime' },
        { id: 'drain.fromSpawn.rowsPerSecond', label: 'rows/s, worker spawn to last row', unit: 'rows/s', summary: summarize(fromSpawn), origin: 'local-runtime' },
      ],
      notes: [
        `${scale.rows} distinct hashes captured before the worker starts; one worker process, batch size 1000, exactly-once on; MySQL polled every ${POLL_MS} ms`,
        'the drain reads the backlog through the local runtime (XREADGROUP, XRANGE, TFCALL committed), so the runtime\'s speed is part of this figure',
      ],
    };
  },
};
