/**
 * (c) WORKER DRAIN: N hashes written through the runtime while no worker runs (so N changes wait, captured and
 * cut into batches), then one worker process started: rows committed per second until MySQL holds all N.
 * The backlog is captured once and restored before each repetition.
 * The rate counts from the first committed row to the last (the ceiling excludes connection set-up too); the
 * rate from the worker's spawn, start-up included, is reported beside it.
 */
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import { benchConfig } from '../support/bench-config.js';
import { writeAsFastAsPossible } from '../support/hash-load.js';
import { personHashFields, PERSONS_TABLE } from '../support/persons-table.js';
import { resetPersons } from '../support/persons-reset.js';
import { benchKeys, startPipeline } from '../support/pipeline.js';
import { startProgress } from '../support/progress.js';
import { sleep } from '../support/sleep.js';
import { summarize } from '../support/stats.js';
import { waitFor } from '../support/wait.js';
import { restoreBacklog, saveBacklog } from '../support/backlog-snapshot.js';

const POLL_MS = 20;

/** Seconds the capture phase may take (the local runtime captures far slower than redis-server writes). */
const CAPTURE_BUDGET_SECONDS = { full: 60, quick: 15 };

export const workerDrainScenario: Scenario = {
  id: 'drain',
  title: '(c) worker drain of a captured backlog',
  async run({ scale, db }: ScenarioContext): Promise<ScenarioResult> {
    const fromFirstRow: number[] = [];
    const fromSpawn: number[] = [];
    await resetPersons(db);
    const pipeline = await startPipeline({ config: benchConfig(), mysqlUrl: db.url });
    let backlog = 0;
    try {
      const client = await pipeline.connect();
      const direct = await pipeline.connectDirect();
      const load = startProgress('drain: capture through the runtime', 'HSET');
      const budgetSeconds = scale.quick ? CAPTURE_BUDGET_SECONDS.quick : CAPTURE_BUDGET_SECONDS.full;
      const captured = await writeAsFastAsPossible(client, scale.rows, (c, i) => c.hSet(`person:${i + 1}`, personHashFields(i + 1)), { budgetSeconds, onProgress: (done) => load.update(done, scale.rows) });
      backlog = captured.done;
      // The capture stream holds every record until it is committed (the meta counters move only at cuts).
      let inStream = 0;
      try {
        await waitFor('every change captured', async () => (inStream = await direct.xLen(benchKeys.changes)) >= backlog, 60_000);
      } catch (error) {
        throw new Error(`${backlog} HSETs acknowledged but only ${inStream} records in ${benchKeys.changes}: ${error instanceof Error ? error.message : String(error)}`);
      }
      const snapshot = await saveBacklog(direct);

      for (let rep = 1; rep <= scale.reps; rep++) {
        if (rep > 1) {
          await resetPersons(db);
          await restoreBacklog(direct, snapshot);
        }
        const progress = startProgress(`drain rep ${rep}/${scale.reps}`, 'rows');
        const spawned = performance.now();
        const worker = pipeline.startWorker({ consumer: `drain-${rep}` });
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
          progress.update(count, backlog);
          if (count >= backlog) {
            fromSpawn.push(backlog / ((now - spawned) / 1000));
            // With the whole backlog committed in one poll interval there is no interval to measure.
            if (count > firstCount) fromFirstRow.push((count - firstCount) / ((now - firstAt) / 1000));
            break;
          }
          if (!worker.isRunning()) throw new Error(`the worker exited during the drain:\n${worker.tail()}`);
          await sleep(POLL_MS);
        }
        await worker.stop();
      }
    } finally {
      await pipeline.close();
    }
    if (fromFirstRow.length === 0) throw new Error(`every drain of ${backlog} rows finished within one ${POLL_MS} ms poll: raise --rows`);
    return {
      id: this.id,
      title: this.title,
      figures: [
        { id: 'drain.rowsPerSecond', label: 'rows/s, first row to last', unit: 'rows/s', summary: summarize(fromFirstRow), origin: 'local-runtime' },
        { id: 'drain.fromSpawn.rowsPerSecond', label: 'rows/s, worker spawn to last row', unit: 'rows/s', summary: summarize(fromSpawn), origin: 'local-runtime' },
      ],
      notes: [
        `backlog of ${backlog} distinct hashes (as many as the runtime captured in the time budget, at most --rows), captured once and restored (DUMP/RESTORE) before each repetition; one worker process, batch size 1000, default transaction groups (consecutive waiting batches written together, up to 5000 records), exactly-once on; MySQL polled every ${POLL_MS} ms`,
        "the drain reads the backlog through the local runtime (XREADGROUP, XRANGE, TFCALL committed), so the runtime's speed is part of this figure",
      ],
    };
  },
};
