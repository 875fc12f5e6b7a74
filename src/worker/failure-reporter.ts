/**
 * Logs a failing loop once per state change, not once per retry: the first failure (and any change of its
 * kind) is logged and reported, every retry is only counted, and the recovery is logged with how long it took.
 */
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { MysqlWriteError } from './mysql/mysql-write-error.js';
import { loggableError } from './loggable-error.js';
import { ReplicasBehindError } from './replica-wait.js';

export class FailureReporter {
  readonly #log: Logger;
  readonly #report: (error: unknown) => void;
  #state: string | undefined;
  #since = 0;
  #retries = 0;

  constructor(log: Logger, report: (error: unknown) => void) {
    this.#log = log;
    this.#report = report;
  }

  /** Records a failure about to be retried; returns its kind (for the retry metric). */
  failed(error: unknown, what: string): string {
    const kind = failureKind(error);
    const state = failureState(kind, error);
    this.#retries += 1;
    if (state !== this.#state) {
      if (this.#state === undefined) this.#since = Date.now();
      this.#state = state;
      const fields = { kind, error: loggableError(error), retrying: true };
      if (kind === 'schema') this.#log.error(fields, `${what} failed: the table does not match the records (fix the table; the backlog waits in Redis): ${errorMessage(error)}`);
      else this.#log.warn(fields, `${what} failed, retrying with backoff until it succeeds: ${errorMessage(error)}`);
      this.#report(error);
    }
    return kind;
  }

  succeeded(what: string): void {
    if (this.#state === undefined) return;
    this.#log.info({ retries: this.#retries, downMs: Date.now() - this.#since }, `${what} recovered`);
    this.#state = undefined;
    this.#retries = 0;
  }

  get failing(): boolean {
    return this.#state !== undefined;
  }
}

/**
 * What makes two failures the same one, logged once: MySQL's errno or code; for a schema failure its message,
 * which names the table and the missing table or column whether MySQL refused a statement or the writer's
 * re-read of the table found it (mysql-batch-writer.ts), so one dropped table is one line, and a second table
 * or column going missing is another.
 */
function failureState(kind: FailureKind, error: unknown): string {
  if (kind === 'schema') return `${kind}:${errorMessage(error)}`;
  return `${kind}:${error instanceof MysqlWriteError ? String(error.context['errno'] ?? error.context['code'] ?? '') : ''}`;
}

/** What a failed step is retried for: the `kind` label of `writebehind_retries_total`, every one exposed from the start. */
export const FAILURE_KINDS = ['mysql', 'schema', 'redis', 'replicas'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

export function failureKind(error: unknown): FailureKind {
  if (error instanceof MysqlWriteError) return error.kind === 'schema' ? 'schema' : 'mysql';
  if (error instanceof ReplicasBehindError) return 'replicas';
  return 'redis';
}
