/**
 * What the worker knows about a target table: its columns (and which hold bytes rather than text), and its
 * unique keys. Read from information_schema at start-up, and again when a write names a column the cache does
 * not know (the operator may have altered the table).
 */
import type { MysqlSession } from './mysql-pool.js';

/** Column types that take raw bytes; every other column takes UTF-8 text. */
const BINARY_TYPES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);

export interface ColumnSchema {
  readonly name: string;
  readonly dataType: string;
  readonly binary: boolean;
  readonly nullable: boolean;
}

export interface TableSchema {
  /** The name as configured (`table` or `db.table`). */
  readonly table: string;
  readonly columns: ReadonlyMap<string, ColumnSchema>;
  /** Column lists of the primary key and every unique key. */
  readonly uniqueKeys: readonly (readonly string[])[];
}

/** `db.table` → [db, table]; `table` → [undefined, table]. */
export function splitTableName(table: string): [string | undefined, string] {
  const dot = table.indexOf('.');
  return dot < 0 ? [undefined, table] : [table.slice(0, dot), table.slice(dot + 1)];
}

/** The table's schema, or null when it does not exist. Names compare case-insensitively, as MySQL columns do. */
export async function readTableSchema(session: MysqlSession, table: string): Promise<TableSchema | null> {
  const [database, name] = splitTableName(table);
  const columnRows = await session.query<Array<{ name: string; dataType: string; nullable: string }>>(
    `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, IS_NULLABLE AS nullable
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?
       ORDER BY ORDINAL_POSITION`,
    [database ?? null, name],
  );
  if (columnRows.length === 0) return null;
  const indexRows = await session.query<Array<{ indexName: string; column: string }>>(
    `SELECT INDEX_NAME AS indexName, COLUMN_NAME AS \`column\`
       FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND NON_UNIQUE = 0
       ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
    [database ?? null, name],
  );
  const columns = new Map<string, ColumnSchema>();
  for (const row of columnRows) {
    const dataType = String(row.dataType).toLowerCase();
    columns.set(String(row.name).toLowerCase(), { name: String(row.name), dataType, binary: BINARY_TYPES.has(dataType), nullable: row.nullable === 'YES' });
  }
  const keys = new Map<string, string[]>();
  for (const row of indexRows) {
    const list = keys.get(row.indexName) ?? [];
    list.push(String(row.column).toLowerCase());
    keys.set(row.indexName, list);
  }
  return { table, columns, uniqueKeys: [...keys.values()] };
}

export function findColumn(schema: TableSchema, column: string): ColumnSchema | undefined {
  return schema.columns.get(column.toLowerCase());
}

/** True when `columns` (in any order) are exactly one of the table's unique keys, so upserts find the row. */
export function isUniqueKey(schema: TableSchema, columns: readonly string[]): boolean {
  const wanted = new Set(columns.map((c) => c.toLowerCase()));
  return schema.uniqueKeys.some((key) => key.length === wanted.size && key.every((c) => wanted.has(c)));
}
