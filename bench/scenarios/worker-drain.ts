/**
 * (c) WORKER DRAIN: N hashes written through the runtime while no worker runs (so N changes wait, captured and
 * cut into batches), then one worker process started: rows committed per second until MySQL holds all N.
 * The backlog is captured once and restored before each drain. Each repetition drains it twice: with the
 * worker's defaults (consecutive waiting batches share a transaction) and with one transaction per batch
 * (`--group-records 1`), so what grouping gives is measured in the same run.
 * The rate counts from the first committed row to the last (the ceiling excludes connection set-up too); the
 * rate from the worker's spawn, start-up included, is reported beside it.
 */
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import { benchConfig } from '../support/bench-config.js';
import { writeAsFastAsPossible } from '../support/hash-load.js';
import { personHashFields, PERSONS_TABLE } from '../support/persons-table.js';
import { resetPersons } from '../support/persons-reset.js';
import type { Connection } from 'mysql2/promise';
import { benchKeys, startPipeline, type Pipeline } from '../support/pipeline.js';
import { startProgress } from '../support/progress.js';
import { sleep } from '../support/sleep.js';
import { summarize } from '../support/stats.js';
import { waitFor } from '../support/wait.js';
import { restoreBacklog, saveBacklog } from '../support/backlog-snapshot.js';

const POLL_MS = 20;

/** Seconds the capture phase may take (the local runtime captures ~1000 HSET/s: the full run gets ~100k). */
const CAPTURE_BUDGET_SECONDS = { full: 110, quick: 15 };

/** The two ways the backlog is drained: the defaults, and one transaction per batch. */
const MODES = [
  { id: 'grouped', groupRecords: undefined },
  { id: 'ungrouped', groupRecords: 1 },
] as const;

interface DrainSample {
  readonly fromFirstRow: number | null;
  readonly fromSpawn: number;
}

export const workerDrainScenario: Scenario = {
  id: 'drain',
  title: '(c) worker drain of a captured backlog',
  async run({ scale, db }: ScenarioContext): Promise<ScenarioResult> {
    const samples = new Map<string, DrainSample[]>(MODES.map((mode) => [mode.id, []]));
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

      let restore = false;
      for (let rep = 1; rep <= scale.reps; rep++) {
        for (const mode of MODES) {
          if (restore) {
            await resetPersons(db);
            await restoreBacklog(direct, snapshot);
          }
          restore = true;
          samples.get(mode.id)!.push(await drainOnce(pipeline, db.admin, backlog, `drain rep ${rep}/${scale.reps}, ${mode.id}`, mode.groupRecords));
        }
      }
    } finally {
      await pipeline.close();
    }
    const rates = (id: string) => samples.get(id)!.flatMap((sample) => (sample.fromFirstRow === null ? [] : [sample.fromFirstRow]));
    if (rates('grouped').length === 0 || rates('ungrouped').length === 0) throw new Error(`every drain of ${backlog} rows finished within one ${POLL_MS} ms poll: raise --rows`);
    return {
      id: this.id,
      title: this.title,
      figures: [
        { id: 'drain.rowsPerSecond', label: 'rows/s, first row to last', unit: 'rows/s', summary: summarize(rates('grouped')), origin: 'local-runtime' },
        { id: 'drain.fromSpawn.rowsPerSecond', label: 'rows/s, worker spawn to last row', unit: 'rows/s', summary: summarize(samples.get('grouped')!.map((sample) => sample.fromSpawn)), origin: 'local-runtime' },
        { id: 'drain.ungrouped.rowsPerSecond', label: 'rows/s, first row to last, one transaction per batch (--group-records 1)', unit: 'rows/s', summary: summarize(rates('ungrouped')), origin: 'local-runtime' },
      ],
      notes: [
        `backlog of ${backlog} distinct hashes (as many as the runtime captured in the time budget, at most --rows), captured once and restored (DUMP/RESTORE) before each drain; one worker process, batch size 1000, default transaction groups (consecutive waiting batches written together, up to 5000 records), exactly-once on; MySQL polled every ${POLL_MS} ms`,
        "the drain reads the backlog through the local runtime (XREADGROUP, XRANGE, TFCALL committed), so the runtime's speed is part of this figure",
      ],
    };
  },
};

/** Starts one worker on the restored backlog and polls MySQL until every row is there. */
async function drainOnce(pipeline: Pipeline, admin: Connection, backlog: number, label: string, groupRecords: number | undefined): Promise<DrainSample> {
  const progress = startProgress(label, 'rows');
  const spawned = performance.now();
  const worker = pipeline.startWorker({ consumer: `drain-${label.replace(/[^A-Za-z0-9]+/g, '-')}`, ...(groupRecords === undefined ? {} : { groupRecords }) });
  let firstAt = 0;
  let firstCount = 0;
  try {
    for (;;) {
      const [rows] = await admin.query(`SELECT COUNT(*) AS n FROM ${PERSONS_TABLE}`);
      const count = Number((rows as Array<{ n: number }>)[0]!.n);
      const now = performance.now();
      if (count > 0 && firstAt === 0) {
        firstAt = now;
        firstCount = count;
      }
      progress.update(count, backlog);
      if (count >= backlog) {
        // With the whole backlog committed in one poll interval there is no interval to measure.
        return { fromSpawn: backlog / ((now - spawned) / 1000), fromFirstRow: count > firstCount ? (count - firstCount) / ((now - firstAt) / 1000) : null };
      }
      if (!worker.isRunning()) throw new Error(`the worker exited during the drain:\n${worker.tail()}`);
      await sleep(POLL_MS);
    }
  } finally {
    await worker.stop();
  }
}
