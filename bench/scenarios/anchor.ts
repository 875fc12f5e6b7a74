/**
 * (b) THE ANCHOR'S ALGORITHM: the same rows written the way rgsync (the seed's successor) writes them, read
 * from RedisGears/rgsync rgsync/Connectors/sql_connectors.py and redis_gears_write_behind.py:
 * - batches of 100 records, flushed after 100 ms when not full (RgsyncBatcher);
 * - one transaction per batch on one connection; in it, one `INSERT … (sorted columns incl. the key) VALUES …
 *   ON DUPLICATE KEY UPDATE c=values(c), …` per record, then the exactly-once row's upsert;
 * - no coalescing: every record is written.
 *
 * Two figures: the per-record form (what the issue names and what rgsync's code asks for), and the form
 * PyMySQL actually sends for it on MySQL: rgsync hands each run of upserts to SQLAlchemy 1.4's executemany,
 * and PyMySQL rewrites an executemany of `INSERT … VALUES (…) ON DUPLICATE …` into one multi-row statement.
 * Both are reported so our ratio is not flattered by the slower reading. Statements use the text protocol
 * (client-side parameters), as PyMySQL does.
 */
import mysql from 'mysql2/promise';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import { startProgress } from '../support/progress.js';
import { summarize } from '../support/stats.js';
import { EXACTLY_ONCE_TABLE, PERSONS_TABLE, personRows, type PersonRow } from '../support/persons-table.js';
import { resetPersons } from '../support/persons-reset.js';
import { RgsyncBatcher } from './rgsync-batcher.js';

/** rgsync's defaults: `batch=100`, `duration=100` (ms). */
export const RGSYNC_BATCH = 100;
export const RGSYNC_DURATION_MS = 100;

// rgsync sorts the columns (key included) and updates every one of them, the key too.
const COLUMNS = 'age,first,last,person_id';
const UPDATE = 'age=values(age),first=values(first),last=values(last),person_id=values(person_id)';
const ONE_ROW = `INSERT INTO ${PERSONS_TABLE} (${COLUMNS}) VALUES (?,?,?,?) ON DUPLICATE KEY UPDATE ${UPDATE}`;
const MANY_ROWS = `INSERT INTO ${PERSONS_TABLE} (${COLUMNS}) VALUES ? ON DUPLICATE KEY UPDATE ${UPDATE}`;
const EXACTLY_ONCE_UPSERT = `INSERT INTO ${EXACTLY_ONCE_TABLE} (id,val) VALUES (?,?) ON DUPLICATE KEY UPDATE id=values(id),val=values(val)`;

type StatementForm = 'per-record' | 'executemany';

interface Capture {
  readonly streamId: string;
  readonly row: PersonRow;
}

export const anchorScenario: Scenario = {
  id: 'anchor',
  title: "(b) rgsync's algorithm: batches of 100, flush 100 ms, no coalescing",
  async run({ scale, db }: ScenarioContext): Promise<ScenarioResult> {
    const rows = personRows(scale.rows);
    const perRecord: number[] = [];
    const executemany: number[] = [];
    for (let rep = 1; rep <= scale.reps; rep++) {
      perRecord.push(await drain(db.url, rows, 'per-record', `anchor per-record rep ${rep}/${scale.reps}`, db));
      executemany.push(await drain(db.url, rows, 'executemany', `anchor executemany rep ${rep}/${scale.reps}`, db));
    }
    return {
      id: this.id,
      title: this.title,
      figures: [
        { id: 'anchor.perRecord.rowsPerSecond', label: 'per-record statements', unit: 'rows/s', summary: summarize(perRecord), origin: 'mariadb' },
        { id: 'anchor.executemany.rowsPerSecond', label: 'as PyMySQL sends it (multi-row per batch)', unit: 'rows/s', summary: summarize(executemany), origin: 'mariadb' },
      ],
      notes: [`${scale.rows} new rows per repetition, batch ${RGSYNC_BATCH}, flush ${RGSYNC_DURATION_MS} ms, exactly-once row upserted per batch`],
    };
  },
};

async function drain(url: string, rows: readonly PersonRow[], form: StatementForm, label: string, db: ScenarioContext['db']): Promise<number> {
  await resetPersons(db);
  // rgsync connects with autocommit and opens an explicit transaction per batch.
  const conn = await mysql.createConnection({ uri: url });
  try {
    const progress = startProgress(label, 'rows');
    let written = 0;
    const batcher = new RgsyncBatcher<Capture>({
      batchSize: RGSYNC_BATCH,
      durationMs: RGSYNC_DURATION_MS,
      write: async (batch) => {
        await writeBatch(conn, batch, form);
        written += batch.length;
        progress.update(written, rows.length);
      },
    });
    const started = performance.now();
    for (let i = 0; i < rows.length; i++) await batcher.add({ streamId: `${i + 1}-0`, row: rows[i]! });
    await batcher.flush();
    return rows.length / ((performance.now() - started) / 1000);
  } finally {
    await conn.end();
  }
}

async function writeBatch(conn: mysql.Connection, batch: readonly Capture[], form: StatementForm): Promise<void> {
  await conn.beginTransaction();
  try {
    if (form === 'per-record') {
      for (const { row } of batch) await conn.query(ONE_ROW, sortedColumns(row));
    } else {
      await conn.query(MANY_ROWS, [batch.map(({ row }) => sortedColumns(row))]);
    }
    await conn.query(EXACTLY_ONCE_UPSERT, ['shard-bench', batch[batch.length - 1]!.streamId]);
    await conn.commit();
  } catch (error) {
    await conn.rollback();
    throw error;
  }
}

/** The row's values in rgsync's sorted column order: age, first, last, person_id. */
function sortedColumns([personId, first, last, age]: PersonRow): string[] {
  return [age, first, last, personId];
}
