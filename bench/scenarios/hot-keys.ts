/**
 * (e) HOT KEYS: many updates over few keys, with one worker running: how many row writes MySQL received for
 * the changes captured. Every change carries the whole row image, so only the last change of a key in a batch
 * needs writing; the ratio shows what coalescing saves. The final rows are checked against the hashes.
 */
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import { benchConfig } from '../support/bench-config.js';
import { writeAsFastAsPossible } from '../support/hash-load.js';
import { personHashFields, personRow, PERSONS_TABLE } from '../support/persons-table.js';
import { resetPersons } from '../support/persons-reset.js';
import { benchKeys, startPipeline } from '../support/pipeline.js';
import { startProgress } from '../support/progress.js';
import { summarize } from '../support/stats.js';
import { waitFor } from '../support/wait.js';
import { readWriterCounters } from '../support/writer-meta.js';

export const HOT_KEYS = 100;

export const hotKeysScenario: Scenario = {
  id: 'hot-keys',
  title: '(e) hot keys: updates over 100 keys, one worker running',
  async run({ scale, db }: ScenarioContext): Promise<ScenarioResult> {
    const updates = scale.rows;
    const ratios: number[] = [];
    const rowsWritten: number[] = [];
    for (let rep = 1; rep <= scale.reps; rep++) {
      await resetPersons(db);
      const pipeline = await startPipeline({ config: benchConfig(), mysqlUrl: db.url });
      try {
        const worker = pipeline.startWorker();
        const client = await pipeline.connect();
        const progress = startProgress(`hot keys rep ${rep}/${scale.reps}`, 'HSET');
        // Update i goes to key (i mod 100) as that key's version floor(i / 100): the last version of each key wins.
        await writeAsFastAsPossible(client, updates, (c, i) => c.hSet(`person:${(i % HOT_KEYS) + 1}`, personHashFields((i % HOT_KEYS) + 1, Math.floor(i / HOT_KEYS))), (done) => progress.update(done, updates));
        await waitFor('the backlog to drain', async () => (await client.xLen(benchKeys.changes)) === 0, 120_000, 100);
        const counters = await readWriterCounters(client);
        await worker.stop();
        await checkFinalRows(db, updates);
        rowsWritten.push(counters.committedRows);
        ratios.push(counters.captured / counters.committedRows);
      } finally {
        await pipeline.close();
      }
    }
    return {
      id: this.id,
      title: this.title,
      figures: [
        { id: 'hotKeys.rowsWritten', label: `row writes for ${updates} changes`, unit: 'rows', summary: summarize(rowsWritten), origin: 'local-runtime' },
        { id: 'hotKeys.coalescing', label: 'changes captured per row written', unit: '×', summary: summarize(ratios), origin: 'local-runtime' },
      ],
      notes: [`${updates} updates over ${HOT_KEYS} keys written as fast as the runtime takes them while the worker drains; batch size 1000 (at most 10 changes of a key per full batch); final rows checked equal to the last version of each key`],
    };
  },
};

async function checkFinalRows(db: ScenarioContext['db'], updates: number): Promise<void> {
  const rows = await db.query<Array<{ person_id: number; first: string; last: string; age: number }>>(`SELECT person_id, first, last, age FROM ${PERSONS_TABLE} ORDER BY person_id`);
  if (rows.length !== HOT_KEYS) throw new Error(`hot keys: ${rows.length} rows in MySQL, expected ${HOT_KEYS}`);
  for (const row of rows) {
    const id = Number(row.person_id);
    const lastVersion = Math.floor((updates - id) / HOT_KEYS);
    const [, first, last, age] = personRow(id, lastVersion);
    if (row.first !== first || row.last !== last || String(row.age) !== age) {
      throw new Error(`hot keys: row ${id} is (${row.first}, ${row.last}, ${row.age}), expected its last version (${first}, ${last}, ${age})`);
    }
  }
}
