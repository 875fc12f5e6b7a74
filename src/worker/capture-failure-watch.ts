/**
 * The worker's watch on captures that failed inside Redis (./capture-failures.ts reads them): a warning in its
 * log and the `writebehind_capture_failures` gauge.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../shared/log.js';
import { readCaptureFailures, type CaptureFailures, type LibraryListing } from './capture-failures.js';

export interface CaptureFailureWatchOptions {
  /** The library's listing on each node that runs its triggers (one Redis, or every primary of a cluster), asked at each poll. */
  readonly listings: () => readonly LibraryListing[];
  readonly library: string;
  readonly writers: readonly string[];
  readonly log: Logger;
  /** @defaultValue 5000 */
  readonly intervalMs?: number;
  /** The worker's metrics registry: gets the `writebehind_capture_failures` gauge. */
  readonly registry?: Registry;
}

/**
 * The worker's watch: every `intervalMs` it reads the failure counts and logs a warning for each writer whose
 * count grew (at start, for failures already counted). The last counts feed the `writebehind_capture_failures`
 * gauge. A read that fails (Redis down) is skipped; the writer loops report the outage.
 */
export class CaptureFailureWatch {
  readonly #options: CaptureFailureWatchOptions;
  readonly #seen = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> = Promise.resolve();
  #stopped = false;

  private constructor(options: CaptureFailureWatchOptions) {
    this.#options = options;
  }

  /** Reads the counts now (a warning for failures already counted), then every `intervalMs`. */
  static start(options: CaptureFailureWatchOptions): CaptureFailureWatch {
    const watch = new CaptureFailureWatch(options);
    if (options.registry !== undefined) watch.#registerGauge(options.registry);
    watch.#start();
    return watch;
  }

  #start(): void {
    this.#polling = this.#poll();
    this.#timer = setInterval(() => {
      if (!this.#stopped) this.#polling = this.#polling.then(() => this.#poll());
    }, this.#options.intervalMs ?? 5000);
    this.#timer.unref();
  }

  /**
   * Stops polling without waiting for a read in flight: on a cluster it asks every primary, and a primary that
   * died (before its replica is promoted, or with none) leaves that read waiting for a reconnection, which a
   * stop must not. Closing the connection ends it (caught in #poll).
   */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#stopped = true;
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

  async #poll(): Promise<void> {
    const { listings, library, writers, log } = this.#options;
    let failures: CaptureFailures[];
    try {
      failures = await readCaptureFailures(listings(), library, writers);
    } catch (error) {
      log.debug({ err: error }, 'reading capture failures failed');
      return;
    }
    if (this.#stopped) return;
    for (const { writer, failed, lastError } of failures) {
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
