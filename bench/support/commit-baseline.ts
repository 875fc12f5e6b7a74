/**
 * The baseline (d) is read against: how fast the same MariaDB commits the same rows per second on its own,
 * measured in the same run, just before the pipeline's. A multi-row upsert of a persons-shaped table every
 * 25 ms (one transaction, one log flush each), so a run whose p99 misses shows whether MariaDB itself stalled
 * then. Its own table, dropped after: the pipeline's rows are not touched.
 */
import mysql from 'mysql2/promise';
import { CREATE_PERSONS, PERSONS_TABLE, personRow } from './persons-table.js';
import { percentile, sortNumbers } from './stats.js';
import { sleep } from './sleep.js';

const TABLE = 'commit_baseline';
const INTERVAL_MS = 25;

export interface CommitLatency {
  /** Transactions committed. */
  readonly transactions: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Commits `rowsPerSecond` rows for `seconds`, a transaction every 25 ms; the transactions' times. */
export async function measureCommitLatency(mysqlUrl: string, rowsPerSecond: number, seconds: number): Promise<CommitLatency> {
  const connection = await mysql.createConnection({ uri: mysqlUrl });
  try {
    await connection.query(CREATE_PERSONS.replace(PERSONS_TABLE, TABLE));
    const rowsEach = Math.max(1, Math.round((rowsPerSecond * INTERVAL_MS) / 1000));
    const times: number[] = [];
    const end = performance.now() + seconds * 1000;
    let next = performance.now();
    for (let id = 1; performance.now() < end; ) {
      const rows = Array.from({ length: rowsEach }, () => personRow(id++));
      const started = performance.now();
      await connection.beginTransaction();
      await connection.query(
        `INSERT INTO ${TABLE} (person_id, first, last, age) VALUES ? ON DUPLICATE KEY UPDATE first = VALUES(first), last = VALUES(last), age = VALUES(age)`,
        [rows],
      );
      await connection.commit();
      times.push(performance.now() - started);
      next += INTERVAL_MS;
      await sleep(Math.max(0, next - performance.now()));
    }
    const sorted = sortNumbers(times);
    return { transactions: sorted.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted.at(-1) ?? Number.NaN };
  } finally {
    await connection.query(`DROP TABLE IF EXISTS ${TABLE}`).catch(() => undefined);
    await connection.end();
  }
}
