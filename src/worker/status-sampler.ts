/**
 * The worker's reading of each writer's state for the metrics gauges, refreshed from Redis in the background
 * (never by a scrape): /metrics then answers from the process's own state at once, also while Redis is
 * unreachable, when the reading simply stops getting fresher.
 */
import type { GaugeReading, WriterGaugeSample } from './worker-metrics.js';
import type { StreamClient } from './redis/stream-client.js';
import { readWriterStatus } from './writer-status.js';
import type { WriterConfig } from '../shared/config.js';

export type SampledWriter = Pick<WriterConfig, 'name' | 'partitions'>;

/** One writer's gauges as read now (one Redis: writerGauges; a Redis Cluster: cluster-writer-gauges.ts). */
export type ReadWriterGauges = (writer: SampledWriter, now: number) => Promise<WriterGaugeSample>;

/** A writer's gauges on one Redis: a partitioned writer's are the sums over its partitions (writer-status.ts). */
export function writerGauges(client: StreamClient): ReadWriterGauges {
  return async ({ name, partitions }, now) => {
    const status = await readWriterStatus(client, name, partitions, now);
    return { writer: name, backlog: status.backlog, pendingBatches: status.queuedBatches, oldestPendingAgeSeconds: status.oldestPendingAgeMs / 1000, captured: status.captured, deadLettered: status.deadLettered };
  };
}

export class WriterStatusSampler {
  readonly #read: ReadWriterGauges;
  readonly #writers: readonly SampledWriter[];
  #reading: GaugeReading = { writers: [], readAt: null };
  #inFlight = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(read: ReadWriterGauges, writers: readonly SampledWriter[]) {
    this.#read = read;
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
    Promise.all(this.#writers.map((writer) => this.#read(writer, readAt))).then(
      (writers) => (this.#reading = { writers, readAt }),
      () => undefined, // Redis unreachable: keep the last reading (its age gauge shows it)
    ).finally(() => (this.#inFlight = false));
  }
}
