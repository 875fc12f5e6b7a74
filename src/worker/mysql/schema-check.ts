/**
 * Start-up validation of the config against the database: every writer's table exists, its primary key
 * columns are the table's primary key or a unique key (otherwise an upsert would insert duplicates), every
 * mapped column exists, and every NOT NULL column without a default is mapped (column names ignore case). All
 * problems are reported at once, each naming the table and column.
 */
import { ConfigError } from '../../shared/errors.js';
import { primaryKeyColumns, type WriteBehindConfig } from '../../shared/config.js';
import type { MysqlSession } from './mysql-pool.js';
import { quoteTable } from './sql-identifiers.js';
import { findColumn, isUniqueKey, readTableSchema, type TableSchema } from './table-schema.js';

export async function checkSchema(session: MysqlSession, config: WriteBehindConfig): Promise<Map<string, TableSchema>> {
  const schemas = new Map<string, TableSchema>();
  const problems: string[] = [];
  for (const writer of config.writers) {
    let schema = schemas.get(writer.table);
    if (schema === undefined) {
      const read = await readTableSchema(session, writer.table);
      if (read === null) {
        problems.push(missingTable(writer.name, writer.table));
        continue;
      }
      schema = read;
      schemas.set(writer.table, schema);
    }
    const keyColumns = primaryKeyColumns(writer);
    problems.push(...missingColumns(writer.name, writer.table, schema, [...keyColumns, ...Object.values(writer.mappings)]));
    // Every write is an INSERT (… ON DUPLICATE KEY UPDATE): one that omits such a column fails for every row.
    const written = new Set([...keyColumns, ...Object.values(writer.mappings)].map((c) => c.toLowerCase()));
    for (const column of schema.columns.values()) {
      if (column.required && !written.has(column.name.toLowerCase())) {
        problems.push(`writer '${writer.name}': table '${writer.table}' has a NOT NULL column '${column.name}' without a default that is not mapped`);
      }
    }
    if (keyColumns.every((c) => findColumn(schema!, c) !== undefined) && !isUniqueKey(schema, keyColumns)) {
      problems.push(`writer '${writer.name}': column(s) ${keyColumns.map((c) => `'${c}'`).join(', ')} of table '${writer.table}' are not its primary key or a unique key`);
    }
  }
  if (problems.length > 0) {
    throw new ConfigError(`the config does not match the database: ${problems.join('; ')}`, {
      context: { problems, suggestion: 'create the tables/columns (or fix the config) and start the worker again' },
    });
  }
  return schemas;
}

/** A problem for each of `columns` the table lacks, worded as the start-up check words it (verify says the same). */
export function missingColumns(writer: string, table: string, schema: TableSchema, columns: readonly string[]): string[] {
  return columns.filter((column) => findColumn(schema, column) === undefined).map((column) => `writer '${writer}': table '${table}' has no column '${column}'`);
}

/** A missing table, worded as the start-up check words it. */
export function missingTable(writer: string, table: string): string {
  return `writer '${writer}': table '${table}' does not exist`;
}

/**
 * The exactly-once cursor table (`id` = capture stream, `val` = last stream id written), created if missing. One
 * that exists must have both columns, `id` unique (each commit upserts its stream's row: with a non-unique `id`
 * it would add one, and the cursor read would see several), and no other column a cursor row cannot fill: it is
 * checked as the writers' tables are, a ConfigError naming `exactlyOnceTable`, the table and the column, rather
 * than a first batch retried for ever on "Unknown column 'id'".
 */
export async function ensureExactlyOnceTable(session: MysqlSession, table: string): Promise<void> {
  await session.query(`CREATE TABLE IF NOT EXISTS ${quoteTable(table)} (id VARCHAR(255) NOT NULL PRIMARY KEY, val VARCHAR(64) NOT NULL)`);
  const schema = await readTableSchema(session, table);
  const problems = schema === null ? [`exactlyOnceTable: table '${table}' does not exist`] : cursorTableProblems(table, schema);
  if (problems.length > 0) {
    throw new ConfigError(`the config does not match the database: ${problems.join('; ')}`, {
      context: { problems, suggestion: `drop or rename '${table}' so the worker creates it (id VARCHAR(255) PRIMARY KEY, val VARCHAR(64)), or name another exactlyOnceTable` },
    });
  }
}

function cursorTableProblems(table: string, schema: TableSchema): string[] {
  const problems = ['id', 'val'].filter((column) => findColumn(schema, column) === undefined).map((column) => `exactlyOnceTable: table '${table}' has no column '${column}'`);
  if (findColumn(schema, 'id') !== undefined && !isUniqueKey(schema, ['id'])) problems.push(`exactlyOnceTable: column 'id' of table '${table}' is not its primary key or a unique key`);
  for (const column of schema.columns.values()) {
    if (column.required && !['id', 'val'].includes(column.name.toLowerCase())) problems.push(`exactlyOnceTable: table '${table}' has a NOT NULL column '${column.name}' without a default`);
  }
  return problems;
}
