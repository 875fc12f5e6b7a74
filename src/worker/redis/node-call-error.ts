/**
 * The error of a library call sent to one cluster node. A node whose library is older than this worker answers
 * the cluster index's calls (`ready` with its chunk limit, `adopt`) with "Unknown function" or an argument-count
 * error: the slot logs then wait (nothing is lost, nothing drains), so the message says the fix.
 */
import { RedisCommandError, errorMessage } from '../../shared/errors.js';

const OLDER_LIBRARY = /Unknown function|expected \d+ keys and arguments/;

export function nodeCallError(fn: string, node: string, cause: unknown): RedisCommandError {
  const message = errorMessage(cause);
  const hint = OLDER_LIBRARY.test(message) ? ` (the library on ${node} is older than this worker: run writebehind deploy with this version)` : '';
  return new RedisCommandError(`TFCALL ${fn} on ${node} failed: ${message}${hint}`, { cause, context: { command: `TFCALL ${fn}` } });
}
