/**
 * (a) CEILING: how fast this MariaDB takes the rows when written the best way we know from Node, with no Redis
 * involved: multi-row INSERT … ON DUPLICATE KEY UPDATE of 1000 rows, one transaction per 1000 rows that also
 * upserts the exactly-once row. The worker's drain rate is reported as a fraction of this.
 */
import mysql from 'mysql2/promise';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import { startProgress } from '../support/progress.js';
import { summarize } from '../support/stats.js';
import { EXACTLY_ONCE_TABLE, PERSONS_TABLE, personRows, type PersonRow } from '../support/persons-table.js';
import { resetPersons } from '../support/persons-reset.js';

export const CEILING_ROWS_PER_STATEMENT = 1000;

const UPSERT = `INSERT INTO ${PERSONS_TABLE} (person_id, first, last, age) VALUES ?
  ON DUPLICATE KEY UPDATE first = VALUES(first), last = VALUES(last), age = VALUES(age)`;
const EXACTLY_ONCE_UPSERT = `INSERT INTO ${EXACTLY_ONCE_TABLE} (id, val) VALUES (?, ?) ON DUPLICATE KEY UPDATE val = VALUES(val)`;

export const ceilingScenario: Scenario = {
  id: 'ceiling',
  title: '(a) MariaDB ceiling: multi-row upsert, 1000 rows/transaction',
  async run({ scale, db }: ScenarioContext): Promise<ScenarioResult> {
    const rows = personRows(scale.rows);
    const samples: number[] = [];
    for (let rep = 1; rep <= scale.reps; rep++) {
      await resetPersons(db);
      const conn = await mysql.createConnection({ uri: db.url });
      try {
        await conn.query("SET SESSION sql_mode = 'STRICT_ALL_TABLES'");
        const progress = startProgress(`ceiling rep ${rep}/${scale.reps}`, 'rows');
        const started = performance.now();
        await writeMultiRow(conn, rows, (done) => progress.update(done, rows.length));
        samples.push(rows.length / ((performance.now() - started) / 1000));
      } finally {
        await conn.end();
      }
    }
    return {
      id: this.id,
      title: this.title,
      figures: [{ id: 'ceiling.rowsPerSecond', label: 'rows/s', unit: 'rows/s', summary: summarize(samples), origin: 'mariadb' }],
      notes: [`${scale.rows} new rows per repetition, one connection, strict SQL mode`],
    };
  },
};

async function writeMultiRow(conn: mysql.Connection, rows: readonly PersonRow[], onProgress: (done: number) => void): Promise<void> {
  for (let start = 0; start < rows.length; start += CEILING_ROWS_PER_STATEMENT) {
    const chunk = rows.slice(start, start + CEILING_ROWS_PER_STATEMENT);
    await conn.beginTransaction();
    await conn.query(UPSERT, [chunk]);
    // The exactly-once cursor: a stand-in stream id that grows with the batch, as the worker's would.
    await conn.query(EXACTLY_ONCE_UPSERT, ['bench', `${start + chunk.length}-0`]);
    await conn.commit();
    onProgress(start + chunk.length);
  }
}
