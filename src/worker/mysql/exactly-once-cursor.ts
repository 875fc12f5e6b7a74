/**
 * The exactly-once cursor: per capture stream, the last id whose rows are committed, stored in the
 * `exactlyOnceTable` (`id`, `val`) in the same transaction as the rows. Read `FOR UPDATE`, so two workers that
 * replay one batch serialise on it and the second sees the first's commit (and skips what it wrote). A
 * transaction holding several streams' batches reads and moves their cursors in one statement each.
 *
 * @internal
 */
import type { MysqlSession } from './mysql-pool.js';
import { quoteTable } from './sql-identifiers.js';

/**
 * The streams' cursors (a stream before its first commit has none), locked until the transaction ends. One
 * statement, locking in key order: two transactions locking overlapping streams cannot take them crosswise.
 */
export async function readCursors(session: MysqlSession, table: string, ids: readonly string[]): Promise<Map<string, string>> {
  const rows = await session.query<Array<{ id: string; val: string }>>(`SELECT id, val FROM ${quoteTable(table)} WHERE id IN (${ids.map(() => '?').join(', ')}) ORDER BY id FOR UPDATE`, [...ids]);
  return new Map(rows.map((row) => [row.id, row.val]));
}

/** Moves each stream's cursor to its `val`, in the caller's transaction. */
export async function writeCursors(session: MysqlSession, table: string, cursors: ReadonlyArray<readonly [id: string, val: string]>): Promise<void> {
  if (cursors.length === 0) return;
  await session.query(`INSERT INTO ${quoteTable(table)} (id, val) VALUES ${cursors.map(() => '(?, ?)').join(', ')} ON DUPLICATE KEY UPDATE val = VALUES(val)`, cursors.flat());
}
