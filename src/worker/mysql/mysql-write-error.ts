/**
 * The error the batch writer throws or records. mysql2 errors carry neither our call site nor what was being
 * written, so each one is wrapped here with the writer, table, batch ids and the MySQL code/errno/sqlState.
 */
import { WriteBehindError, errorMessage, type ErrorContext } from '../../shared/errors.js';
import { classifyMysqlError, mysqlErrorFields, type MysqlErrorKind } from './mysql-error-kind.js';

export class MysqlWriteError extends WriteBehindError {
  /** How the worker reacts: retry the batch, retry loudly (schema), or dead-letter the rows (data). */
  readonly kind: MysqlErrorKind;

  constructor(message: string, options: { cause?: unknown; context?: ErrorContext; kind?: MysqlErrorKind } = {}) {
    const fields = mysqlErrorFields(options.cause);
    super('MYSQL_WRITE', message, { cause: options.cause, context: { ...options.context, ...fields } });
    this.kind = options.kind ?? classifyMysqlError(options.cause);
  }

  get retryable(): boolean {
    return this.kind !== 'data';
  }

  /** Wraps any error thrown while writing, keeping an existing MysqlWriteError as is. */
  static wrap(error: unknown, context: ErrorContext): MysqlWriteError {
    if (error instanceof MysqlWriteError) return error;
    return new MysqlWriteError(`MySQL write failed: ${errorMessage(error)}`, { cause: error, context });
  }
}
