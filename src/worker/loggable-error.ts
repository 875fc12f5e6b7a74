/**
 * What of an error goes into a log line: our errors' toJSON() (code, message, context, and the cause's
 * code/errno/sqlState/message), never the raw driver error, whose `sql` carries the row values.
 */
import { WriteBehindError, errorMessage } from '../shared/errors.js';

export function loggableError(error: unknown): Record<string, unknown> {
  if (error instanceof WriteBehindError) return error.toJSON();
  return { name: error instanceof Error ? error.name : typeof error, message: errorMessage(error) };
}
