/**
 * The MySQL side of verify: one mysql2 connection of its own (verify only reads), the table's schema, the rows
 * of given primary keys, and pages of rows in primary key order (keyset pagination: `WHERE (k) > (last)
 * ORDER BY k LIMIT n`), so memory stays bounded by the page whatever the table's size. Identifiers are
 * validated and quoted; values are parameters.
 */
import mysql from 'mysql2/promise';
import { ConfigError, errorMessage, WriteBehindError } from '../shared/errors.js';
import { redactUrl } from '../shared/redact-url.js';
import { quoteIdentifier, quoteTable } from '../worker/mysql/sql-identifiers.js';
import { missingColumns, missingTable } from '../worker/mysql/schema-check.js';
import { readTableSchema, type TableSchema } from '../worker/mysql/table-schema.js';
import type { WriterTarget } from './writer-target.js';

/** A row: primary key values as text (key columns' order), then each mapped column's value as mysql2 gives it. */
export interface TargetRow {
  readonly keyValues: readonly string[];
  readonly columns: ReadonlyMap<string, unknown>;
}

export class ReconcileMysql {
  readonly #connection: mysql.Connection;
  readonly #url: string;

  private constructor(connection: mysql.Connection, url: string) {
    this.#connection = connection;
    this.#url = url;
  }

  static async connect(url: string): Promise<ReconcileMysql> {
    try {
      const connection = await mysql.createConnection({ uri: url, charset: 'utf8mb4', supportBigNumbers: true, bigNumberStrings: true, dateStrings: true, connectTimeout: 10_000 });
      return new ReconcileMysql(connection, url);
    } catch (cause) {
      throw new WriteBehindError('MYSQL_CONNECT', `cannot connect to MySQL at ${redactUrl(url)}: ${errorMessage(cause)}`, { cause, context: { suggestion: 'check --mysql / MYSQL_URL' } });
    }
  }

  async #query<T>(sql: string, values: unknown[], what: string): Promise<T> {
    try {
      const [rows] = await this.#connection.query(sql, values);
      return rows as T;
    } catch (cause) {
      throw new WriteBehindError('MYSQL_READ', `${what} at ${redactUrl(this.#url)} failed: ${errorMessage(cause)}`, { cause });
    }
  }

  /**
   * The table's schema, once it is known to have every key and mapped column: a table that does not match the
   * config is a configuration error (exit 2, as at the worker's start-up), not a failed read (exit 1, which for
   * verify reads as "differences found", and which --repair cannot heal).
   */
  async schema(target: WriterTarget): Promise<TableSchema> {
    const session = { query: <T>(sql: string, values: readonly unknown[] = []) => this.#query<T>(sql, [...values], `reading the schema of ${target.table}`) };
    const schema = await readTableSchema(session as Parameters<typeof readTableSchema>[0], target.table);
    if (schema === null) throw this.#mismatch([missingTable(target.name, target.table)]);
    const problems = missingColumns(target.name, target.table, schema, [...target.keyColumns, ...target.mappings.map(([, column]) => column)]);
    if (problems.length > 0) throw this.#mismatch(problems);
    return schema;
  }

  #mismatch(problems: string[]): ConfigError {
    return new ConfigError(`the config does not match the database at ${redactUrl(this.#url)}: ${problems.join('; ')}`, {
      context: { problems, suggestion: 'create the tables/columns, or pass --config with the config the library was deployed with' },
    });
  }

  /** The rows of these primary keys (each a list of key column values); absent keys have no row. */
  async rowsOf(target: WriterTarget, keys: readonly (readonly string[])[]): Promise<TargetRow[]> {
    if (keys.length === 0) return [];
    const tuple = `(${target.keyColumns.map(() => '?').join(', ')})`;
    const sql = `SELECT ${selectList(target)} FROM ${quoteTable(target.table)} WHERE (${keyList(target)}) IN (${keys.map(() => tuple).join(', ')})`;
    return (await this.#query<Record<string, unknown>[]>(sql, keys.flat(), `reading rows of ${target.table}`)).map((row) => toTargetRow(target, row));
  }

  /** Up to `limit` rows after `after` (a primary key, or null for the first page), in primary key order. */
  async pageAfter(target: WriterTarget, after: readonly string[] | null, limit: number): Promise<TargetRow[]> {
    const where = after === null ? '' : `WHERE (${keyList(target)}) > (${target.keyColumns.map(() => '?').join(', ')}) `;
    const sql = `SELECT ${selectList(target)} FROM ${quoteTable(target.table)} ${where}ORDER BY ${keyList(target)} LIMIT ${Number(limit)}`;
    return (await this.#query<Record<string, unknown>[]>(sql, after === null ? [] : [...after], `paging ${target.table}`)).map((row) => toTargetRow(target, row));
  }

  async close(): Promise<void> {
    await this.#connection.end().catch(() => this.#connection.destroy());
  }
}

function keyList(target: WriterTarget): string {
  return target.keyColumns.map(quoteIdentifier).join(', ');
}

/** Key columns as `k0, k1, ...`, mapped columns as `c0, c1, ...`: a mapped column may also be a key column. */
function selectList(target: WriterTarget): string {
  const keys = target.keyColumns.map((column, i) => `${quoteIdentifier(column)} AS \`k${i}\``);
  const columns = target.mappings.map(([, column], i) => `${quoteIdentifier(column)} AS \`c${i}\``);
  return [...keys, ...columns].join(', ');
}

function toTargetRow(target: WriterTarget, row: Record<string, unknown>): TargetRow {
  return {
    keyValues: target.keyColumns.map((_, i) => String(row[`k${i}`])),
    columns: new Map(target.mappings.map(([, column], i) => [column, row[`c${i}`]])),
  };
}
