/**
 * (e) HOT KEYS: many updates over few keys: how many row writes MySQL received for the changes captured.
 * Every change carries the whole row image, so only the last change of a key in a batch needs writing; the
 * ratio shows what coalescing saves. Two modes, because the ratio depends on how full batches are:
 * - live: the worker runs during the load, so batches are as full as the capture rate makes them in
 *   `maxDelayMs` (100 ms);
 * - backlog: the load is captured first and the worker started after, so batches are full (1000 records,
 *   ~10 changes per key) and the worker writes consecutive ones together (up to 5000 records, ~50 changes
 *   per key per transaction): the most coalescing the defaults allow.
 * The final rows are checked against each key's last version.
 */
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import { benchConfig } from '../support/bench-config.js';
import { writeAsFastAsPossible } from '../support/hash-load.js';
import { personHashFields, personRow, PERSONS_TABLE } from '../support/persons-table.js';
import { resetPersons } from '../support/persons-reset.js';
import { benchKeys, startPipeline } from '../support/pipeline.js';
import { startProgress } from '../support/progress.js';
import { summarize } from '../support/stats.js';
import { waitForDrain } from '../support/drain.js';
import { readWriterCounters } from '../support/writer-meta.js';

export const HOT_KEYS = 100;

type HotKeysMode = 'live' | 'backlog';
/** Seconds of updates per repetition at most (the local runtime captures slowly; see the notes). */
const BUDGET_SECONDS = { full: 25, quick: 8 };

export const hotKeysScenario: Scenario = {
  id: 'hot-keys',
  title: '(e) hot keys: updates over 100 keys',
  async run({ scale, db }: ScenarioContext): Promise<ScenarioResult> {
    const budgetSeconds = scale.quick ? BUDGET_SECONDS.quick : BUDGET_SECONDS.full;
    const outcomes: Record<HotKeysMode, { changes: number[]; rows: number[]; ratios: number[] }> = { live: { changes: [], rows: [], ratios: [] }, backlog: { changes: [], rows: [], ratios: [] } };
    for (let rep = 1; rep <= scale.reps; rep++) {
      for (const mode of ['live', 'backlog'] as const) {
        await resetPersons(db);
        const pipeline = await startPipeline({ config: benchConfig(), mysqlUrl: db.url });
        try {
          let worker = mode === 'live' ? pipeline.startWorker() : undefined;
          const client = await pipeline.connect();
          const progress = startProgress(`hot keys ${mode} rep ${rep}/${scale.reps}`, 'HSET');
          // Update i goes to key (i mod 100) as that key's version floor(i / 100): the last version of each key wins.
          const { done: updates } = await writeAsFastAsPossible(client, scale.rows, (c, i) => c.hSet(`person:${(i % HOT_KEYS) + 1}`, personHashFields((i % HOT_KEYS) + 1, Math.floor(i / HOT_KEYS))), { budgetSeconds: budgetSeconds / 2, onProgress: (done) => progress.update(done, scale.rows) });
          worker ??= pipeline.startWorker();
          await waitForDrain(client, benchKeys, worker, 120_000);
          const counters = await readWriterCounters(client);
          await worker.stop();
          await checkFinalRows(db, updates);
          outcomes[mode].changes.push(counters.captured);
          outcomes[mode].rows.push(counters.committedRows);
          outcomes[mode].ratios.push(counters.captured / counters.committedRows);
        } finally {
          await pipeline.close();
        }
      }
    }
    const figures = (['live', 'backlog'] as const).flatMap((mode) => [
      { id: `hotKeys.${mode}.changes`, label: `${mode}: changes captured`, unit: 'changes', summary: summarize(outcomes[mode].changes), origin: 'local-runtime' as const },
      { id: `hotKeys.${mode}.rowsWritten`, label: `${mode}: row writes`, unit: 'rows', summary: summarize(outcomes[mode].rows), origin: 'local-runtime' as const },
      { id: `hotKeys.${mode}.coalescing`, label: `${mode}: changes per row written`, unit: '×', summary: summarize(outcomes[mode].ratios), origin: 'local-runtime' as const },
    ]);
    return {
      id: this.id,
      title: this.title,
      figures,
      notes: [`per mode and repetition, up to ${scale.rows} updates (or ${budgetSeconds / 2} s of them) over ${HOT_KEYS} keys, written as fast as the runtime takes them; batch size 1000 and the worker's default transaction groups (up to 5000 records of consecutive waiting batches), so in backlog mode a transaction holds up to ~50 changes of a key, and in live mode partial batches (cut after 100 ms) hold fewer; final rows checked equal to each key's last version`],
    };
  },
};

async function checkFinalRows(db: ScenarioContext['db'], updates: number): Promise<void> {
  const rows = await db.query<Array<{ person_id: number; first: string; last: string; age: number }>>(`SELECT person_id, first, last, age FROM ${PERSONS_TABLE} ORDER BY person_id`);
  if (rows.length !== Math.min(HOT_KEYS, updates)) throw new Error(`hot keys: ${rows.length} rows in MySQL, expected ${HOT_KEYS}`);
  for (const row of rows) {
    const id = Number(row.person_id);
    const lastVersion = Math.floor((updates - id) / HOT_KEYS);
    const [, first, last, age] = personRow(id, lastVersion);
    if (row.first !== first || row.last !== last || String(row.age) !== age) {
      throw new Error(`hot keys: row ${id} is (${row.first}, ${row.last}, ${row.age}), expected its last version (${first}, ${last}, ${age})`);
    }
  }
}
