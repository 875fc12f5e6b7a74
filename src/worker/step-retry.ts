/**
 * Retry of one step of a writer loop (a group's write, its acks, its `committed` calls): run it until it
 * succeeds, backing off between attempts. Shutdown interrupts only the waiting: a step in flight finishes, and
 * the batch stays pending in Redis for the next run. The first failure of a run of them is also written to the
 * writer's meta hash (`last_error`), so `status` shows it.
 *
 * @internal
 */
import { errorMessage } from '../shared/errors.js';
import { MetaField } from '../shared/protocol.js';
import { Backoff, sleep } from './backoff.js';
import { failureKind, type FailureReporter } from './failure-reporter.js';
import type { StreamClient } from './redis/stream-client.js';
import type { ResolvedWorkerOptions } from './worker-options.js';

/** Ends the loop when shutdown interrupts a retry: the batch stays pending in Redis. */
export class StoppedError extends Error {}

export interface StepRetryContext {
  readonly writer: string;
  readonly meta: string;
  readonly client: StreamClient;
  readonly options: Pick<ResolvedWorkerOptions, 'retryInitialDelayMs' | 'retryMaxDelayMs' | 'metrics'>;
  readonly signal: AbortSignal;
  readonly failures: FailureReporter;
}

export class StepRetry {
  readonly #ctx: StepRetryContext;

  constructor(ctx: StepRetryContext) {
    this.#ctx = ctx;
  }

  /** `step`'s value once it succeeds; throws StoppedError when shutdown interrupts the wait before a retry. */
  async run<T>(label: string, step: () => Promise<T>): Promise<T> {
    const { options, signal, failures, writer } = this.#ctx;
    const backoff = new Backoff(options.retryInitialDelayMs, options.retryMaxDelayMs);
    const what = `batch ${label} of writer ${writer}`;
    for (;;) {
      try {
        const value = await step();
        failures.succeeded(what);
        return value;
      } catch (error) {
        options.metrics?.retried(writer, failureKind(error));
        const first = !failures.failing;
        failures.failed(error, what);
        if (first) await this.#noteError(`write: ${errorMessage(error)}`);
        if (!(await sleep(backoff.next(), signal))) throw new StoppedError();
      }
    }
  }

  async #noteError(message: string): Promise<void> {
    try {
      await this.#ctx.client.hashSet(this.#ctx.meta, { [MetaField.lastError]: message.slice(0, 500), [MetaField.lastErrorAt]: String(Date.now()) });
    } catch {
      // Redis itself may be what failed; the log has the error.
    }
  }
}
