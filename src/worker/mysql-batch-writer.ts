/**
 * Writes batches of capture records to MySQL/MariaDB, one transaction per batch:
 * - coalesced per row (last change wins), then one `DELETE … WHERE (pk) IN (…)` per table and one multi-row
 *   `INSERT … ON DUPLICATE KEY UPDATE` per (table, column set), chunked to bounded statements;
 * - a statement that fails on data is split in halves until the offending rows are isolated (InnoDB rolls back
 *   only the failed statement, so the transaction goes on); those rows are returned as rejected, the rest commits;
 * - with an exactly-once table, the writer's cursor is read `FOR UPDATE` and advanced in the same transaction,
 *   so a replayed batch is skipped instead of applied twice.
 *
 * @example
 * const writer = new MysqlBatchWriter({ pool: createMysqlPool({ url }), config });
 * await writer.prepare();              // checks tables/columns, creates the exactly-once table
 * const result = await writer.write(batch);
 */
import { compareStreamIds } from '../shared/protocol.js';
import { RecordOp } from '../shared/protocol.js';
import { silentLogger, type Logger } from '../shared/log.js';
import type { WriteBehindConfig } from '../shared/config.js';
import type { BatchWriteResult, BatchWriter, RejectedRecord, WriteBatch, WriteHooks } from './batch-writer.js';
import type { CaptureRecord } from './capture-record.js';
import { coalesceRecords, type CoalescedChange } from './coalesce.js';
import { classifyMysqlError } from './mysql-error-kind.js';
import { MysqlWriteError } from './mysql-write-error.js';
import type { MysqlPool, MysqlSession } from './mysql-pool.js';
import { findColumn, readTableSchema, type TableSchema } from './table-schema.js';
import { checkSchema, ensureExactlyOnceTable } from './schema-check.js';
import { isSqlIdentifier, isSqlTableName, quoteIdentifier, quoteTable } from './sql-identifiers.js';

export interface MysqlBatchWriterOptions {
  pool: MysqlPool;
  config: WriteBehindConfig;
  /** Most rows in one INSERT or DELETE statement. @defaultValue 1000 */
  maxRowsPerStatement?: number;
  /** Approximate most value bytes in one statement, well under max_allowed_packet. @defaultValue 4 MiB */
  maxBytesPerStatement?: number;
  log?: Logger;
}

/** One row of a statement: its change and the encoded values in the statement's column order. */
interface StatementRow {
  readonly change: CoalescedChange;
  readonly values: readonly unknown[];
  readonly bytes: number;
}

interface StatementGroup {
  readonly op: 'upsert' | 'delete';
  readonly table: string;
  readonly keyColumns: readonly string[];
  /** Non-key columns (upserts only). */
  readonly columns: readonly string[];
  readonly rows: StatementRow[];
}

/**
 * What the statements need of one record shape (table, key column names, column names), checked against the
 * table's schema once instead of for every record: records of one writer almost all share one shape.
 */
interface RowShape {
  /** Key columns, then the other columns, each in the table's column order. */
  readonly keyColumns: readonly string[];
  readonly columns: readonly string[];
  /** Per column of [...keyColumns, ...columns]: the column takes raw bytes. */
  readonly binary: readonly boolean[];
  /** Statement group of an upsert and of a delete of this shape. */
  readonly upsertGroup: string;
  readonly deleteGroup: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class MysqlBatchWriter implements BatchWriter {
  readonly #pool: MysqlPool;
  readonly #config: WriteBehindConfig;
  readonly #maxRows: number;
  readonly #maxBytes: number;
  readonly #log: Logger;
  readonly #tables: ReadonlySet<string>;
  readonly #schemas = new Map<string, TableSchema>();
  /** By shapeKey(); cleared whenever a schema is read again. */
  readonly #shapes = new Map<string, RowShape>();

  constructor(options: MysqlBatchWriterOptions) {
    this.#pool = options.pool;
    this.#config = options.config;
    this.#maxRows = options.maxRowsPerStatement ?? 1000;
    this.#maxBytes = options.maxBytesPerStatement ?? 4 * 1024 * 1024;
    if (!(this.#maxRows >= 1)) throw new RangeError('maxRowsPerStatement must be at least 1');
    if (!(this.#maxBytes >= 1024)) throw new RangeError('maxBytesPerStatement must be at least 1024');
    this.#log = options.log ?? silentLogger;
    this.#tables = new Set(options.config.writers.map((w) => w.table));
  }

  /** Validates the config against the database (ConfigError naming the table/column) and creates the exactly-once table. */
  async prepare(): Promise<void> {
    const session = await this.#pool.session();
    try {
      const schemas = await checkSchema(session, this.#config);
      for (const [table, schema] of schemas) this.#schemas.set(table, schema);
      if (this.#config.exactlyOnceTable !== undefined) await ensureExactlyOnceTable(session, this.#config.exactlyOnceTable);
    } finally {
      session.release();
    }
  }

  async write(batch: WriteBatch, hooks: WriteHooks = {}): Promise<BatchWriteResult> {
    const context = { writer: batch.writer, stream: batch.stream, descriptorId: batch.descriptorId, from: batch.from, to: batch.to };
    let session: MysqlSession;
    try {
      session = await this.#pool.session();
    } catch (error) {
      throw MysqlWriteError.wrap(error, context);
    }
    let reuse = true;
    let inHook = false;
    try {
      await session.query('START TRANSACTION');
      const exactlyOnce = this.#config.exactlyOnceTable;
      let pending: readonly CaptureRecord[] = batch.records;
      let alreadyWritten: readonly CaptureRecord[] = [];
      let cursor: string | undefined;
      if (exactlyOnce !== undefined) {
        cursor = await readCursor(session, exactlyOnce, batch.stream);
        const written = cursor;
        // Every record is after `from`: only a cursor past it (a replay) can have written some already.
        if (written !== undefined && compareStreamIds(written, batch.from) > 0) {
          alreadyWritten = batch.records.filter((r) => compareStreamIds(r.id, written) <= 0);
          pending = batch.records.filter((r) => compareStreamIds(r.id, written) > 0);
        }
      }
      const rejected: RejectedRecord[] = [];
      const groups = await this.#plan(session, coalesceRecords(pending), rejected, context);
      let rows = 0;
      for (const group of groups) {
        for (const chunk of this.#chunks(group.rows)) rows += await this.#writeRows(session, group, chunk, rejected, context);
      }
      const replayed = cursor !== undefined && compareStreamIds(batch.to, cursor) <= 0;
      if (exactlyOnce !== undefined && !replayed) await writeCursor(session, exactlyOnce, batch.stream, batch.to);
      const result: BatchWriteResult = { rows, alreadyWritten, rejected, replayed };
      inHook = true;
      await hooks.beforeCommit?.(result);
      inHook = false;
      await session.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await session.query('ROLLBACK');
      } catch {
        reuse = false;
      }
      if (inHook) throw error;
      const wrapped = MysqlWriteError.wrap(error, context);
      if (wrapped.kind === 'retryable') reuse = false;
      // The table changed under us: read its columns (and their types) again on the retry.
      if (wrapped.kind === 'schema') {
        this.#schemas.clear();
        this.#shapes.clear();
      }
      throw wrapped;
    } finally {
      if (reuse) session.release();
      else session.destroy();
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  /** Validates identifiers, encodes values and groups the changes into statements (deletes first). */
  async #plan(session: MysqlSession, changes: readonly CoalescedChange[], rejected: RejectedRecord[], context: Record<string, unknown>): Promise<StatementGroup[]> {
    const deletes = new Map<string, StatementGroup>();
    const upserts = new Map<string, StatementGroup>();
    for (const change of changes) {
      const { record } = change;
      const reject = (message: string, extra: Record<string, unknown> = {}) =>
        rejected.push({ record, superseded: change.superseded, error: new MysqlWriteError(message, { kind: 'data', context: { ...context, table: record.table, recordId: record.id, key: record.key, ...extra } }) });
      if (!this.#tables.has(record.table) || !isSqlTableName(record.table)) {
        reject(`table '${record.table}' is not a table of this config`);
        continue;
      }
      const key = shapeKey(record);
      let shape = this.#shapes.get(key);
      if (shape === undefined) {
        const names = [...record.keyValues.keys(), ...record.columns.keys()];
        const badName = names.find((name) => !isSqlIdentifier(name));
        if (badName !== undefined) {
          reject(`column name ${JSON.stringify(badName)} is not a plain SQL identifier`, { column: badName });
          continue;
        }
        const schema = await this.#schemaWith(session, record.table, names, context);
        const keyColumns = orderByTable(schema, [...record.keyValues.keys()]);
        const columns = orderByTable(schema, [...record.columns.keys()]);
        shape = {
          keyColumns,
          columns,
          binary: [...keyColumns, ...columns].map((column) => findColumn(schema, column)?.binary === true),
          upsertGroup: `${record.table}|${keyColumns.join(',')}|${columns.join(',')}`,
          deleteGroup: `${record.table}|${keyColumns.join(',')}|`,
        };
        this.#shapes.set(key, shape);
      }
      const { keyColumns, columns } = shape;
      const isDelete = record.op === RecordOp.delete;
      const width = isDelete ? keyColumns.length : keyColumns.length + columns.length;
      const values: unknown[] = new Array(width);
      let bytes = 0;
      let invalid: string | undefined;
      for (let i = 0; i < width; i++) {
        const column = i < keyColumns.length ? keyColumns[i]! : columns[i - keyColumns.length]!;
        const raw = record.keyValues.get(column) ?? record.columns.get(column) ?? null;
        if (raw === null) {
          values[i] = null;
          continue;
        }
        bytes += raw.length;
        if (shape.binary[i] === true) values[i] = raw;
        else {
          try {
            values[i] = utf8.decode(raw);
          } catch {
            invalid = column;
            break;
          }
        }
      }
      if (invalid !== undefined) {
        reject(`value of column '${invalid}' is not valid UTF-8 and the column is not binary`, { column: invalid });
        continue;
      }
      const id = isDelete ? shape.deleteGroup : shape.upsertGroup;
      const groups = isDelete ? deletes : upserts;
      let group = groups.get(id);
      if (group === undefined) {
        group = { op: isDelete ? 'delete' : 'upsert', table: record.table, keyColumns, columns: isDelete ? [] : columns, rows: [] };
        groups.set(id, group);
      }
      group.rows.push({ change, values, bytes });
    }
    // Deletes first: a row deleted and another inserted with the same secondary unique value must not collide.
    return [...deletes.values(), ...upserts.values()];
  }

  /** The table's schema, re-read once when it lacks a named column; a column still missing is a schema error. */
  async #schemaWith(session: MysqlSession, table: string, columns: readonly string[], context: Record<string, unknown>): Promise<TableSchema> {
    let schema = this.#schemas.get(table);
    if (schema === undefined || columns.some((c) => findColumn(schema!, c) === undefined)) {
      const fresh = await readTableSchema(session, table);
      if (fresh === null) throw new MysqlWriteError(`table '${table}' does not exist`, { kind: 'schema', context: { ...context, table } });
      this.#schemas.set(table, fresh);
      this.#shapes.clear();
      schema = fresh;
    }
    const missing = columns.find((c) => findColumn(schema!, c) === undefined);
    if (missing !== undefined) throw new MysqlWriteError(`table '${table}' has no column '${missing}'`, { kind: 'schema', context: { ...context, table, column: missing } });
    return schema;
  }

  #chunks(rows: readonly StatementRow[]): StatementRow[][] {
    const chunks: StatementRow[][] = [];
    let current: StatementRow[] = [];
    let bytes = 0;
    for (const row of rows) {
      if (current.length > 0 && (current.length >= this.#maxRows || bytes + row.bytes > this.#maxBytes)) {
        chunks.push(current);
        current = [];
        bytes = 0;
      }
      current.push(row);
      bytes += row.bytes;
    }
    if (current.length > 0) chunks.push(current);
    return chunks;
  }

  /** Runs one statement over `rows`; on a data error, bisects to isolate the offending rows. Returns rows written. */
  async #writeRows(session: MysqlSession, group: StatementGroup, rows: readonly StatementRow[], rejected: RejectedRecord[], context: Record<string, unknown>): Promise<number> {
    try {
      await session.query(statementSql(group, rows.length), rows.flatMap((row) => row.values));
      return rows.length;
    } catch (error) {
      if (classifyMysqlError(error) !== 'data') throw error;
      if (rows.length === 1) {
        const { record, superseded } = rows[0]!.change;
        const message = (error as { sqlMessage?: string }).sqlMessage ?? String((error as Error).message);
        rejected.push({
          record,
          superseded,
          error: new MysqlWriteError(`${group.op} into ${group.table} rejected: ${message}`, { cause: error, kind: 'data', context: { ...context, table: group.table, recordId: record.id, key: record.key } }),
        });
        if (rejected.length === 1) this.#log.debug({ table: group.table, recordId: record.id }, 'isolated a rejected row');
        return 0;
      }
      const middle = Math.ceil(rows.length / 2);
      return (await this.#writeRows(session, group, rows.slice(0, middle), rejected, context)) + (await this.#writeRows(session, group, rows.slice(middle), rejected, context));
    }
  }
}

/** Table, key column names and column names of a record, unambiguous whatever the names hold (length-prefixed). */
function shapeKey(record: CaptureRecord): string {
  let key = `${record.table.length}:${record.table}|`;
  for (const name of record.keyValues.keys()) key += `${name.length}:${name}`;
  key += '|';
  for (const name of record.columns.keys()) key += `${name.length}:${name}`;
  return key;
}

/** Columns in the table's ordinal order, so equal column sets produce identical statements. */
function orderByTable(schema: TableSchema, columns: readonly string[]): string[] {
  const order = [...schema.columns.keys()];
  return [...columns].sort((a, b) => order.indexOf(a.toLowerCase()) - order.indexOf(b.toLowerCase()));
}

function statementSql(group: StatementGroup, rowCount: number): string {
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

async function readCursor(session: MysqlSession, table: string, id: string): Promise<string | undefined> {
  const rows = await session.query<Array<{ val: string }>>(`SELECT val FROM ${quoteTable(table)} WHERE id = ? FOR UPDATE`, [id]);
  return rows[0]?.val;
}

async function writeCursor(session: MysqlSession, table: string, id: string, val: string): Promise<void> {
  await session.query(`INSERT INTO ${quoteTable(table)} (id, val) VALUES (?, ?) ON DUPLICATE KEY UPDATE val = VALUES(val)`, [id, val]);
}
