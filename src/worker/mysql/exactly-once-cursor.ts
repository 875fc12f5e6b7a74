/**
 * The exactly-once cursor: per capture stream, the last id whose rows are committed, stored in the
 * `exactlyOnceTable` (`id`, `val`) in the same transaction as the rows. Read `FOR UPDATE`, so two workers that
 * replay one batch serialise on it and the second sees the first's commit (and skips what it wrote).
 *
 * @internal
 */
import type { MysqlSession } from './mysql-pool.js';
import { quoteTable } from './sql-identifiers.js';

/** The stream's cursor, locked until the transaction ends; undefined before its first commit. */
export async function readCursor(session: MysqlSession, table: string, id: string): Promise<string | undefined> {
  const rows = await session.query<Array<{ val: string }>>(`SELECT val FROM ${quoteTable(table)} WHERE id = ? FOR UPDATE`, [id]);
  return rows[0]?.val;
}

/** Moves the stream's cursor to `val`, in the caller's transaction. */
export async function writeCursor(session: MysqlSession, table: string, id: string, val: string): Promise<void> {
  await session.query(`INSERT INTO ${quoteTable(table)} (id, val) VALUES (?, ?) ON DUPLICATE KEY UPDATE val = VALUES(val)`, [id, val]);
}
