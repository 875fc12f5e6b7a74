/**
 * The one place an error becomes output and an exit code: code, message, cause and a suggestion where we
 * have one. Exit codes: 2 for bad configuration or arguments, 130 for a run interrupted by a signal (as shells
 * report SIGINT), 1 for everything else.
 */
import { ConfigError, WriteBehindError, errorMessage } from '../shared/errors.js';

export function handleError(error: unknown): number {
  if (error instanceof WriteBehindError) {
    process.stderr.write(`error [${error.code}]: ${error.message}\n`);
    if (error.cause !== undefined) process.stderr.write(`  cause: ${errorMessage(error.cause)}\n`);
    const suggestion = error.context['suggestion'];
    if (typeof suggestion === 'string') process.stderr.write(`  hint: ${suggestion}\n`);
    if (error.code === 'INTERRUPTED') return 130;
    return error instanceof ConfigError ? 2 : 1;
  }
  process.stderr.write(`error: ${errorMessage(error)}\n`);
  return 1;
}
