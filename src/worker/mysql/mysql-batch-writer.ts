/**
 * Writes batches of capture records to MySQL/MariaDB, one transaction per batch (or per call of writeMany,
 * which writes the batches of several capture logs together, each with its own exactly-once cursor):
 * - coalesced per row (last change wins), then one `DELETE … WHERE (pk) IN (…)` per table and one multi-row
 *   `INSERT … ON DUPLICATE KEY UPDATE` per (table, column set), chunked to bounded statements;
 * - a statement that fails on data is split in halves until the offending rows are isolated (InnoDB rolls back
 *   only the failed statement, so the transaction goes on); those rows are returned as rejected, the rest commits;
 * - with an exactly-once table, each capture stream's cursor is read `FOR UPDATE` and advanced in the same
 *   transaction, so a replayed batch is skipped instead of applied twice.
 *
 * @example
 * const writer = new MysqlBatchWriter({ pool: createMysqlPool({ url }), config });
 * await writer.prepare();              // checks tables/columns, creates the exactly-once table
 * const result = await writer.write(batch);
 */
import { compareStreamIds } from '../../shared/stream-id.js';
import { RecordOp } from '../../shared/protocol.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import type { WriteBehindConfig } from '../../shared/config.js';
import type { BatchWriteResult, BatchWriter, RejectedRecord, WriteBatch, WriteHooks, WriteManyHooks, WriteManyOutcome, WriteOutcome } from '../batch-writer.js';
import type { CaptureRecord } from '../capture-record.js';
import type { RecordShape } from '../record-shape.js';
import { coalesceRecords, type CoalescedChange } from '../coalesce.js';
import { classifyMysqlError, mysqlErrorFields } from './mysql-error-kind.js';
import { MysqlWriteError } from './mysql-write-error.js';
import type { MysqlPool, MysqlSession } from './mysql-pool.js';
import { encodeRow, encodedSize, rowShape, type RowShape, type RowSize } from './row-encoding.js';
import { findColumn, readTableSchema, type TableSchema } from './table-schema.js';
import { checkSchema, ensureExactlyOnceTable } from './schema-check.js';
import { isSqlIdentifier, isSqlTableName } from './sql-identifiers.js';
import { statementSql, type StatementGroup } from './statement-sql.js';
import { StatementPlanner, chunkRows, firstStatementRows, isPreparedSize } from './statement-planner.js';
import { readCursors, writeCursors } from './exactly-once-cursor.js';

export interface MysqlBatchWriterOptions {
  pool: MysqlPool;
  config: WriteBehindConfig;
  /** Most rows in one INSERT or DELETE statement. @defaultValue 1000 */
  maxRowsPerStatement?: number;
  /** Approximate most value bytes in one statement, well under max_allowed_packet. @defaultValue 4 MiB */
  maxBytesPerStatement?: number;
  log?: Logger;
}

/** One row of a statement: its change and its sizes (its values are in the group's `values`). */
interface StatementRow extends RowSize {
  readonly change: CoalescedChange;
}

/** Why records of a shape cannot be written, and what the rejection's context adds. */
interface ShapeRefusal {
  readonly refused: string;
  readonly context: Record<string, unknown>;
}

/** Bytes of a statement's text besides its values, and of a packet's framing: kept free under the packet limit. */
const PACKET_MARGIN = 64 * 1024;

export class MysqlBatchWriter implements BatchWriter {
  readonly #pool: MysqlPool;
  readonly #config: WriteBehindConfig;
  readonly #maxRows: number;
  readonly #maxBytes: number;
  /**
   * The packet limit statements are sized by: the server's max_allowed_packet, read at prepare() (16 MiB until
   * then) and again after a failed write, and at most `#packetCeiling`.
   */
  #packetLimit = 16 * 1024 * 1024;
  /** Lowered below what a statement sent when the server refused it as too large (1153): our estimate was short. */
  #packetCeiling = Number.POSITIVE_INFINITY;
  /** A write failed on the connection: max_allowed_packet may have changed (a too-large packet often shows only as a reset). */
  #packetUnsure = false;
  readonly #log: Logger;
  readonly #tables: ReadonlySet<string>;
  readonly #schemas = new Map<string, TableSchema>();
  /**
   * By the records' shape (interned: one object per shape): its statements' shape, or why its records are
   * refused; checked once per shape, not per record. Replaced whenever a schema is read again.
   */
  #shapes = new WeakMap<RecordShape, RowShape | ShapeRefusal>();

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
      await this.#readPacketLimit(session);
    } finally {
      session.release();
    }
  }

  async write<V = never>(batch: WriteBatch, hooks: WriteHooks<V> = {}): Promise<WriteOutcome<V>> {
    const { results: [result], veto } = await this.writeMany<V>([batch], { beforeCommit: async (results) => hooks.beforeCommit?.(results[0]!) });
    return veto === undefined ? result! : { ...result!, veto };
  }

  async writeMany<V = never>(batches: readonly WriteBatch[], hooks: WriteManyHooks<V> = {}): Promise<WriteManyOutcome<V>> {
    const context = batches.length === 1 ? batchContext(batches[0]!) : { writer: batches[0]?.writer, batches: batches.length };
    let session: MysqlSession;
    try {
      session = await this.#pool.session();
    } catch (error) {
      throw MysqlWriteError.wrap(error, context);
    }
    let reuse = true;
    let inHook = false;
    try {
      if (this.#packetUnsure) await this.#readPacketLimit(session);
      await session.query('START TRANSACTION');
      const exactlyOnce = this.#config.exactlyOnceTable;
      const cursors = exactlyOnce === undefined ? new Map<string, string>() : await readCursors(session, exactlyOnce, batches.map((batch) => batch.stream));
      // Each batch's records the cursor shows as not written yet (every record is after `from`: only a cursor
      // past it, a replay, can have written some already).
      const pending = batches.map((batch) => {
        const written = cursors.get(batch.stream);
        if (written === undefined || compareStreamIds(written, batch.from) <= 0) return { pending: batch.records, alreadyWritten: [] };
        return { pending: batch.records.filter((r) => compareStreamIds(r.id, written) > 0), alreadyWritten: batch.records.filter((r) => compareStreamIds(r.id, written) <= 0) };
      });
      const rejected: RejectedRecord[] = [];
      // One set of statements for every batch: a row's changes all come from one stream (a key lives in one log).
      const changes = coalesceRecords(pending.flatMap((p) => p.pending));
      const groups = await this.#plan(session, changes, rejected, context);
      for (const group of groups) {
        const width = group.keyColumns.length + group.columns.length;
        for (const { from, to } of chunkRows(group.rows, this.#maxRows, this.#statementBytes)) {
          // A chunk whose size is not one sent prepared is sent as the largest such size, then the rest.
          const first = from + firstStatementRows(to - from, width, this.#maxRows);
          await this.#writeRows(session, group, from, first, rejected, context);
          if (first < to) await this.#writeRows(session, group, first, to, rejected, context);
        }
      }
      const results = perBatch(batches, pending, changes, rejected, cursors);
      if (exactlyOnce !== undefined) await writeCursors(session, exactlyOnce, batches.filter((_, i) => !results[i]!.replayed).map((batch) => [batch.stream, batch.to] as const));
      inHook = true;
      const decision = await hooks.beforeCommit?.(results);
      inHook = false;
      if (decision) {
        await session.query('ROLLBACK');
        return { results, veto: decision.veto };
      }
      await session.query('COMMIT');
      return { results };
    } catch (error) {
      try {
        await session.query('ROLLBACK');
      } catch {
        reuse = false;
      }
      if (inHook) throw error;
      const wrapped = MysqlWriteError.wrap(error, context);
      if (wrapped.kind === 'retryable') {
        reuse = false;
        this.#packetUnsure = true;
      }
      // The table changed under us: read its columns (and their types) again on the retry.
      if (wrapped.kind === 'schema') {
        this.#schemas.clear();
        this.#shapes = new WeakMap();
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
  async #plan(session: MysqlSession, changes: readonly CoalescedChange[], rejected: RejectedRecord[], context: Record<string, unknown>): Promise<StatementGroup<StatementRow>[]> {
    const planner = new StatementPlanner<StatementRow>();
    // One closure for the batch, not one per record: a rejection is rare, the loop runs per record.
    let change: CoalescedChange;
    const reject = (message: string, extra: Record<string, unknown> = {}) => {
      const { record } = change;
      rejected.push({ record, superseded: change.superseded, error: new MysqlWriteError(message, { kind: 'data', context: { ...context, table: record.table, recordId: record.id, key: record.key, ...extra } }) });
    };
    for (change of changes) {
      const { record } = change;
      let shape = this.#shapes.get(record.shape);
      if (shape === undefined) {
        shape = await this.#rowShape(session, record.shape, context);
        this.#shapes.set(record.shape, shape);
      }
      if ('refused' in shape) {
        reject(shape.refused, shape.context);
        continue;
      }
      const isDelete = record.op === RecordOp.delete;
      const group = planner.group(isDelete ? 'delete' : 'upsert', record.table, shape);
      const refused = encodeRow(shape, record, isDelete, group.values);
      if (refused !== null) {
        reject(refused.reason, { column: refused.column });
        continue;
      }
      const { textBytes, rawBytes } = encodedSize;
      if (rawBytes > this.#packetLimit - PACKET_MARGIN) {
        group.values.length -= shape.keyColumns.length + (isDelete ? 0 : shape.columns.length);
        reject(`the row takes ${rawBytes} bytes, more than the server's max_allowed_packet (${this.#packetLimit}) allows`, { rowBytes: rawBytes, maxAllowedPacket: this.#packetLimit });
        continue;
      }
      group.rows.push({ change, textBytes, rawBytes });
    }
    return planner.groups();
  }

  /** The statements' shape of records of `shape`, or why they are refused (a table outside the config, a name that is not an identifier). */
  async #rowShape(session: MysqlSession, shape: RecordShape, context: Record<string, unknown>): Promise<RowShape | ShapeRefusal> {
    const { table } = shape;
    if (!this.#tables.has(table) || !isSqlTableName(table)) return { refused: `table '${table}' is not a table of this config`, context: {} };
    const names = [...shape.keyColumns, ...shape.columns];
    const badName = names.find((name) => !isSqlIdentifier(name));
    if (badName !== undefined) return { refused: `column name ${JSON.stringify(badName)} is not a plain SQL identifier`, context: { column: badName } };
    return rowShape(await this.#schemaWith(session, table, names, context), shape);
  }

  /** The table's schema, re-read once when it lacks a named column; a column still missing is a schema error. */
  async #schemaWith(session: MysqlSession, table: string, columns: readonly string[], context: Record<string, unknown>): Promise<TableSchema> {
    let schema = this.#schemas.get(table);
    if (schema === undefined || columns.some((c) => findColumn(schema!, c) === undefined)) {
      const fresh = await readTableSchema(session, table);
      if (fresh === null) throw schemaProblem(table, fresh, columns, context)!;
      this.#schemas.set(table, fresh);
      this.#shapes = new WeakMap();
      schema = fresh;
    }
    const problem = schemaProblem(table, schema, columns, context);
    if (problem !== null) throw problem;
    return schema;
  }

  /**
   * A statement MySQL refused for the table's schema (no such table or column: the operator dropped or altered it
   * under us) becomes the error the retry's fresh read of the table will throw, naming the table and the cause
   * the same way, so the failure is one state (one log line) from its first sight. When the read finds nothing
   * wrong (the table changed back meanwhile), MySQL's own error goes on.
   */
  async #schemaRefusal(session: MysqlSession, group: StatementGroup<StatementRow>, error: unknown, context: Record<string, unknown>): Promise<unknown> {
    let fresh: TableSchema | null;
    try {
      fresh = await readTableSchema(session, group.table);
    } catch {
      return error;
    }
    return schemaProblem(group.table, fresh, [...group.keyColumns, ...group.columns], context, error) ?? error;
  }

  /** max_allowed_packet of this session (the server's value when it connected), capped by what 1153s taught. */
  async #readPacketLimit(session: MysqlSession): Promise<void> {
    const [packet] = await session.query<Array<{ limit: string | number }>>('SELECT @@max_allowed_packet AS `limit`');
    this.#packetLimit = Math.min(Number(packet!.limit), this.#packetCeiling);
    this.#packetUnsure = false;
  }

  /** Most bytes of values in one text statement: the configured cap, and half the packet limit (escaping may double text). */
  get #statementBytes(): number {
    return Math.max(1024, Math.min(this.#maxBytes, Math.floor((this.#packetLimit - PACKET_MARGIN) / 2)));
  }

  /** Runs one statement over the group's rows [from, to); on a data error, bisects to isolate the offending rows. Returns rows written. */
  async #writeRows(session: MysqlSession, group: StatementGroup<StatementRow>, from: number, to: number, rejected: RejectedRecord[], context: Record<string, unknown>): Promise<number> {
    const count = to - from;
    const sql = statementSql(group, count);
    const width = group.keyColumns.length + group.columns.length;
    const values = group.values.slice(from * width, to * width);
    // A row too large for a text statement (binary values would travel as hex, twice their size) is sent
    // alone as a prepared statement, its values raw. One server statement per shape: a bounded number.
    const alone = count === 1 && group.rows[from]!.textBytes > this.#statementBytes;
    try {
      if (alone || isPreparedSize(count, width, this.#maxRows)) await session.execute(sql, values);
      else await session.query(sql, values);
      return count;
    } catch (error) {
      if (mysqlErrorFields(error).errno === 1153) {
        // The server refused the statement as too large and closed the connection. The retry reads the limit
        // again (max_allowed_packet may have been lowered) and stays below what this statement sent (in case
        // our estimate was short), so it chunks smaller or rejects the row before sending it: it cannot fail
        // the same way.
        let sent = 0;
        for (let i = from; i < to; i++) sent += alone ? group.rows[i]!.rawBytes : group.rows[i]!.textBytes;
        this.#packetCeiling = Math.min(this.#packetCeiling, Math.max(2 * PACKET_MARGIN, sent - 1));
        this.#packetLimit = Math.min(this.#packetLimit, this.#packetCeiling);
        this.#log.warn({ table: group.table, statementBytes: sent, maxAllowedPacket: this.#packetLimit }, 'a statement exceeded max_allowed_packet; lowered the limit the worker uses');
      }
      const kind = classifyMysqlError(error);
      if (kind === 'schema') throw await this.#schemaRefusal(session, group, error, context);
      if (kind !== 'data') throw error;
      if (count === 1) {
        const { record, superseded } = group.rows[from]!.change;
        const message = (error as { sqlMessage?: string }).sqlMessage ?? String((error as Error).message);
        rejected.push({
          record,
          superseded,
          error: new MysqlWriteError(`${group.op} into ${group.table} rejected: ${message}`, { cause: error, kind: 'data', context: { ...context, table: group.table, recordId: record.id, key: record.key } }),
        });
        if (rejected.length === 1) this.#log.debug({ table: group.table, recordId: record.id }, 'isolated a rejected row');
        return 0;
      }
      const middle = from + Math.ceil(count / 2);
      return (await this.#writeRows(session, group, from, middle, rejected, context)) + (await this.#writeRows(session, group, middle, to, rejected, context));
    }
  }
}

/**
 * Why `table` (its schema as read: null when it does not exist) cannot take `columns`; null when it can. `cause`:
 * the MySQL error that made the writer look.
 */
function schemaProblem(table: string, schema: TableSchema | null, columns: readonly string[], context: Record<string, unknown>, cause?: unknown): MysqlWriteError | null {
  const withCause = cause === undefined ? {} : { cause };
  if (schema === null) return new MysqlWriteError(`table '${table}' does not exist`, { kind: 'schema', context: { ...context, table }, ...withCause });
  const missing = columns.find((c) => findColumn(schema, c) === undefined);
  if (missing !== undefined) return new MysqlWriteError(`table '${table}' has no column '${missing}'`, { kind: 'schema', context: { ...context, table, column: missing }, ...withCause });
  return null;
}

/** What names a batch in a write error's context. */
function batchContext(batch: WriteBatch): Record<string, unknown> {
  return { writer: batch.writer, stream: batch.stream, descriptorId: batch.descriptorId, from: batch.from, to: batch.to };
}

/**
 * Each batch's share of a transaction: its rows (its coalesced changes that were not rejected), its records
 * already written and rejected, and whether the cursor had reached its end (a replay of the whole batch).
 */
function perBatch(batches: readonly WriteBatch[], pending: ReadonlyArray<{ pending: readonly CaptureRecord[]; alreadyWritten: readonly CaptureRecord[] }>, changes: readonly CoalescedChange[], rejected: readonly RejectedRecord[], cursors: ReadonlyMap<string, string>): BatchWriteResult[] {
  const batchOf = new Map<CaptureRecord, number>();
  pending.forEach((p, index) => {
    for (const record of p.pending) batchOf.set(record, index);
  });
  const rows = batches.map(() => 0);
  for (const change of changes) rows[batchOf.get(change.record)!]! += 1;
  const rejectedOf = batches.map((): RejectedRecord[] => []);
  for (const r of rejected) {
    rows[batchOf.get(r.record)!]! -= 1;
    rejectedOf[batchOf.get(r.record)!]!.push(r);
  }
  return batches.map((batch, index) => {
    const cursor = cursors.get(batch.stream);
    return { rows: rows[index]!, alreadyWritten: pending[index]!.alreadyWritten, rejected: rejectedOf[index]!, replayed: cursor !== undefined && compareStreamIds(batch.to, cursor) <= 0 };
  });
}
