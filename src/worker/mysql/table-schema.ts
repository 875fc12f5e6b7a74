/**
 * What the worker knows about a target table: its columns (and which hold bytes rather than text), and its
 * unique keys. Read from information_schema at start-up, and again when a write names a column the cache does
 * not know (the operator may have altered the table).
 */
import type { ColumnType } from './column-value.js';
import type { MysqlSession } from './mysql-pool.js';

/** Column types that take raw bytes; every other column takes UTF-8 text. */
const BINARY_TYPES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);

export interface ColumnSchema extends ColumnType {
  readonly name: string;
  readonly binary: boolean;
  readonly nullable: boolean;
  /** NOT NULL with no default (not AUTO_INCREMENT, not generated): an INSERT that omits it fails. */
  readonly required: boolean;
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
  const columnRows = await session.query<Array<ColumnRow>>(
    `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, IS_NULLABLE AS nullable, COLUMN_TYPE AS columnType,
            NUMERIC_PRECISION AS \`precision\`, NUMERIC_SCALE AS scale, COLUMN_DEFAULT AS \`default\`, EXTRA AS extra
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
  for (const row of columnRows) columns.set(String(row.name).toLowerCase(), columnSchema(row));
  const keys = new Map<string, string[]>();
  for (const row of indexRows) {
    const list = keys.get(row.indexName) ?? [];
    list.push(String(row.column).toLowerCase());
    keys.set(row.indexName, list);
  }
  return { table, columns, uniqueKeys: [...keys.values()] };
}

interface ColumnRow {
  name: string;
  dataType: string;
  nullable: string;
  columnType: string;
  precision: string | number | null;
  scale: string | number | null;
  default: string | null;
  extra: string | null;
}

function columnSchema(row: ColumnRow): ColumnSchema {
  const dataType = String(row.dataType).toLowerCase();
  const nullable = row.nullable === 'YES';
  const extra = String(row.extra ?? '');
  // MariaDB shows a NULL default as the text 'NULL' and no default as SQL NULL; MySQL shows both as SQL NULL,
  // but a NOT NULL column cannot default to NULL there.
  const required = !nullable && row.default === null && !/auto_increment|generated/i.test(extra);
  return {
    name: String(row.name),
    dataType,
    unsigned: /unsigned/i.test(String(row.columnType)),
    precision: row.precision === null ? null : Number(row.precision),
    scale: row.scale === null ? null : Number(row.scale),
    binary: BINARY_TYPES.has(dataType),
    nullable,
    required,
  };
}

export function findColumn(schema: TableSchema, column: string): ColumnSchema | undefined {
  return schema.columns.get(column.toLowerCase());
}

/** True when `columns` (in any order) are exactly one of the table's unique keys, so upserts find the row. */
export function isUniqueKey(schema: TableSchema, columns: readonly string[]): boolean {
  const wanted = new Set(columns.map((c) => c.toLowerCase()));
  return schema.uniqueKeys.some((key) => key.length === wanted.size && key.every((c) => wanted.has(c)));
}
