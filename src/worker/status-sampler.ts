/**
 * The worker's reading of each writer's state for the metrics gauges, refreshed from Redis in the background
 * (never by a scrape): /metrics then answers from the process's own state at once, also while Redis is
 * unreachable, when the reading simply stops getting fresher.
 */
import type { GaugeReading, WriterGaugeSample } from './worker-metrics.js';
import type { StreamClient } from './redis/stream-client.js';
import { readWriterStatus } from './writer-status.js';
import type { WriterConfig } from '../shared/config.js';

export class WriterStatusSampler {
  readonly #client: StreamClient;
  readonly #writers: readonly Pick<WriterConfig, 'name' | 'partitions'>[];
  #reading: GaugeReading = { writers: [], readAt: null };
  #inFlight = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(client: StreamClient, writers: readonly Pick<WriterConfig, 'name' | 'partitions'>[]) {
    this.#client = client;
    this.#writers = writers;
  }

  /** Reads now and then every `intervalMs`; a reading still waiting for Redis is not started again. */
  start(intervalMs: number): void {
    this.#refresh();
    this.#timer = setInterval(() => this.#refresh(), intervalMs);
  }

  latest(): GaugeReading {
    return this.#reading;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #refresh(): void {
    if (this.#inFlight) return;
    this.#inFlight = true;
    const readAt = Date.now();
    // A partitioned writer's gauges are the sums over its partitions (writer-status.ts).
    Promise.all(this.#writers.map(async ({ name, partitions }): Promise<WriterGaugeSample> => {
      const status = await readWriterStatus(this.#client, name, partitions, readAt);
      return { writer: name, backlog: status.backlog, pendingBatches: status.queuedBatches, oldestPendingAgeSeconds: status.oldestPendingAgeMs / 1000, captured: status.captured };
    })).then(
      (writers) => (this.#reading = { writers, readAt }),
      () => undefined, // Redis unreachable: keep the last reading (its age gauge shows it)
    ).finally(() => (this.#inFlight = false));
  }
}
