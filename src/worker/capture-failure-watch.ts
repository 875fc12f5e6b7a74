/**
 * The worker's watch on captures that failed inside Redis (./capture-failures.ts reads them): a warning in its
 * log and the `writebehind_capture_failures` gauge.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../shared/log.js';
import { captureFailuresOf } from './capture-failures.js';
import type { LibraryListingPoll } from './library-listing-poll.js';

export interface CaptureFailureWatchOptions {
  readonly writers: readonly string[];
  readonly log: Logger;
  /** The worker's metrics registry: gets the `writebehind_capture_failures` gauge. */
  readonly registry?: Registry;
}

/**
 * At every read of the library's listing it logs a warning for each writer whose failure count grew (at the
 * first read, for failures already counted). The last counts feed the `writebehind_capture_failures` gauge.
 */
export class CaptureFailureWatch {
  readonly #options: CaptureFailureWatchOptions;
  readonly #seen = new Map<string, number>();

  private constructor(options: CaptureFailureWatchOptions) {
    this.#options = options;
  }

  /** Judges every read of `poll` from now on. */
  static on(poll: LibraryListingPoll, options: CaptureFailureWatchOptions): CaptureFailureWatch {
    const watch = new CaptureFailureWatch(options);
    if (options.registry !== undefined) watch.#registerGauge(options.registry);
    poll.onRead((replies) => watch.#judge(replies));
    return watch;
  }

  #registerGauge(registry: Registry): void {
    const seen = this.#seen;
    new Gauge({
      name: 'writebehind_capture_failures',
      help: 'Capture callbacks that failed inside Redis since the library was loaded (TFUNCTION LIST num_failed): those writes were not replicated',
      labelNames: ['writer'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [writer, failed] of seen) this.set({ writer }, failed);
      },
    });
  }

  #judge(replies: readonly unknown[]): void {
    const { writers, log } = this.#options;
    for (const { writer, failed, lastError } of captureFailuresOf(replies, writers)) {
      const before = this.#seen.get(writer) ?? 0;
      this.#seen.set(writer, failed);
      if (failed <= before) continue;
      log.warn(
        { writer, failed: failed - before, failedTotal: failed, lastError },
        'captures failed inside Redis: those writes were not replicated (the writer\'s dead-letter stream names the key when the library caught the error; a lock-redis-timeout names none). Re-write the keys once fixed',
      );
    }
  }
}
