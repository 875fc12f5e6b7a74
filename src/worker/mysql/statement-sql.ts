/**
 * The text of the worker's statements: one multi-row `DELETE … WHERE (key) IN (…)` or
 * `INSERT … ON DUPLICATE KEY UPDATE` per group of rows of one shape. Placeholders only: every value is sent
 * as a parameter and escaped by mysql2; identifiers are validated before they get here and quoted here.
 *
 * @internal
 */
import type { RowSize } from './row-encoding.js';
import { quoteIdentifier, quoteTable } from './sql-identifiers.js';

/** Rows of one statement shape: one table, one key column set, one column set (upserts). */
export interface StatementGroup<R extends RowSize = RowSize> {
  readonly op: 'upsert' | 'delete';
  readonly table: string;
  readonly keyColumns: readonly string[];
  /** Non-key columns (upserts only). */
  readonly columns: readonly string[];
  readonly rows: R[];
  /** The rows' values, row after row: one array for the group, not one per row. */
  readonly values: unknown[];
}

/** The statement for `rowCount` rows of the group (deletes name key columns only). */
export function statementSql(group: Pick<StatementGroup, 'op' | 'table' | 'keyColumns' | 'columns'>, rowCount: number): string {
  const table = quoteTable(group.table);
  const keys = group.keyColumns.map(quoteIdentifier);
  if (group.op === 'delete') {
    const tuple = keys.length === 1 ? '?' : `(${keys.map(() => '?').join(',')})`;
    const target = keys.length === 1 ? keys[0]! : `(${keys.join(',')})`;
    return `DELETE FROM ${table} WHERE ${target} IN (${Array.from({ length: rowCount }, () => tuple).join(',')})`;
  }
  const columns = group.columns.map(quoteIdentifier);
  const all = [...keys, ...columns];
  const row = `(${all.map(() => '?').join(',')})`;
  // VALUES(col) works on MariaDB and MySQL 8 alike (MySQL 8.0.20+ only warns that it is deprecated).
  return `INSERT INTO ${table} (${all.join(',')}) VALUES ${Array.from({ length: rowCount }, () => row).join(',')} ON DUPLICATE KEY UPDATE ${columns.map((c) => `${c}=VALUES(${c})`).join(',')}`;
}

