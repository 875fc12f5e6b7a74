/**
 * What to do about a MySQL error. The decision drives the whole failure model:
 * - `retryable`: the server or the connection is the problem (lost connection, deadlock, lock wait timeout,
 *   too many connections, read-only): roll back, back off, try the same batch again; nothing is dropped.
 * - `schema`: the table or a column is missing. Also retried (the operator fixes the table and the backlog
 *   drains), but logged loudly because it will not heal by itself.
 * - `data`: this row cannot be stored (too long, wrong type, NULL into NOT NULL, constraint, a column named
 *   twice): isolate the row and dead-letter it; the rest of the batch commits.
 * Anything unknown is treated as retryable: stalling is recoverable, dropping data is not.
 */
export type MysqlErrorKind = 'retryable' | 'schema' | 'data';

/**
 * errno values whose statement failed because of its rows (their values, or their shape: a retry sends the
 * same statement and fails the same way, so retrying would stall the writer forever).
 */
const DATA_ERRNOS = new Set([
  1048, // ER_BAD_NULL_ERROR: NULL into NOT NULL
  1062, // ER_DUP_ENTRY: duplicate on a secondary unique key
  1110, // ER_FIELD_SPECIFIED_TWICE: a record names one column twice (letter case)
  1118, // ER_TOO_BIG_ROWSIZE
  1136, // ER_WRONG_VALUE_COUNT_ON_ROW
  1263, // ER_WARN_NULL_TO_NOTNULL
  1264, // ER_WARN_DATA_OUT_OF_RANGE
  1265, // WARN_DATA_TRUNCATED
  1292, // ER_TRUNCATED_WRONG_VALUE
  1300, // ER_INVALID_CHARACTER_STRING
  1364, // ER_NO_DEFAULT_FOR_FIELD
  1366, // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
  1367, // ER_ILLEGAL_VALUE_FOR_TYPE
  1406, // ER_DATA_TOO_LONG
  1411, // ER_WRONG_VALUE_FOR_TYPE
  1451, // ER_ROW_IS_REFERENCED_2: delete of a parent row
  1452, // ER_NO_REFERENCED_ROW_2: foreign key
  1644, // ER_SIGNAL_EXCEPTION: a trigger rejected the row
  1690, // ER_DATA_OUT_OF_RANGE
  3140, // ER_INVALID_JSON_TEXT (MySQL)
  3819, // ER_CHECK_CONSTRAINT_VIOLATED (MySQL)
  4025, // ER_CONSTRAINT_FAILED (MariaDB check constraint)
]);

const SCHEMA_ERRNOS = new Set([
  1049, // ER_BAD_DB_ERROR
  1054, // ER_BAD_FIELD_ERROR
  1146, // ER_NO_SUCH_TABLE
]);

/** Client-side codes mysql2 uses when the connection itself failed. */
const CONNECTION_CODES = new Set(['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'PROTOCOL_SEQUENCE_TIMEOUT']);

export function classifyMysqlError(error: unknown): MysqlErrorKind {
  const fields = mysqlErrorFields(error);
  if (fields.fatal === true) return 'retryable';
  if (fields.code !== undefined && CONNECTION_CODES.has(fields.code)) return 'retryable';
  if (fields.errno !== undefined) {
    if (SCHEMA_ERRNOS.has(fields.errno)) return 'schema';
    if (DATA_ERRNOS.has(fields.errno)) return 'data';
  }
  // SQLSTATE class 22 is "data exception", 23 "integrity constraint violation"; deadlock (40001) is not here.
  if (fields.sqlState !== undefined && (fields.sqlState.startsWith('22') || fields.sqlState.startsWith('23'))) return 'data';
  return 'retryable';
}

export interface MysqlErrorFields {
  code?: string;
  errno?: number;
  sqlState?: string;
  sqlMessage?: string;
  fatal?: boolean;
}

/** The identifying fields of a mysql2 error (absent ones omitted), for logs, dead letters and classification. */
export function mysqlErrorFields(error: unknown): MysqlErrorFields {
  if (typeof error !== 'object' || error === null) return {};
  const e = error as Record<string, unknown>;
  const out: MysqlErrorFields = {};
  if (typeof e['code'] === 'string') out.code = e['code'];
  if (typeof e['errno'] === 'number') out.errno = e['errno'];
  if (typeof e['sqlState'] === 'string') out.sqlState = e['sqlState'];
  if (typeof e['sqlMessage'] === 'string') out.sqlMessage = e['sqlMessage'];
  if (typeof e['fatal'] === 'boolean') out.fatal = e['fatal'];
  return out;
}
