/**
 * The worker's cut timer: every batch.maxDelayMs it offers each writer's open capture records to the library's
 * `cut` (which cuts a partial batch when the oldest has waited that long), so a change never waits much longer
 * than maxDelayMs for a full batch. It runs on a connection of its own, apart from the writer loops: a loop
 * blocked in XREADGROUP or busy committing a large group cannot delay the cuts, and a failed cut does not
 * make a loop resync. Ticks never overlap: the next one is scheduled when the last one's calls are answered.
 *
 * @internal
 */
import { writerKeys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import { LibraryFunction } from '../shared/protocol.js';
import { FailureReporter } from './failure-reporter.js';
import type { StreamClient } from './redis/stream-client.js';

export interface CutTimerOptions {
  readonly client: StreamClient;
  readonly library: string;
  readonly writers: readonly string[];
  readonly maxDelayMs: number;
  readonly log: Logger;
  readonly report: (error: unknown) => void;
}

export class CutTimer {
  readonly #options: CutTimerOptions;
  readonly #failures: FailureReporter;
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: CutTimerOptions) {
    this.#options = options;
    this.#failures = new FailureReporter(options.log, options.report);
  }

  start(): void {
    this.#schedule();
  }

  /** Stops ticking; resolves once the tick in flight (if any) is answered. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#tick;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#tick = this.#cutAll().finally(() => this.#schedule());
    }, this.#options.maxDelayMs);
  }

  async #cutAll(): Promise<void> {
    const { client, library, writers, maxDelayMs } = this.#options;
    await Promise.all(writers.map(async (writer) => {
      const what = `cut of writer ${writer}`;
      try {
        await client.callFunction(library, LibraryFunction.cut, [writerKeys(writer).changes], [String(maxDelayMs)]);
        this.#failures.succeeded(what);
      } catch (error) {
        if (!this.#stopped) this.#failures.failed(error, what);
      }
    }));
  }
}
