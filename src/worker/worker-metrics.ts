/**
 * The worker's Prometheus metrics, in a registry of its own (so embedding apps keep theirs clean). Counters and
 * the latency histogram are updated as batches commit; the gauges (backlog, pending batches, oldest pending age,
 * captured) come from the worker's last reading of Redis (taken in the background, see WriterStatusSampler):
 * a scrape never waits on Redis, so /metrics answers while Redis is unreachable, and
 * `writebehind_gauges_age_seconds` says how old that reading is.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { FAILURE_KINDS, type FailureKind } from './failure-reporter.js';

/** The last reading of every writer's state, and when it was taken (null: none yet). */
export interface GaugeReading {
  readonly writers: readonly WriterGaugeSample[];
  readonly readAt: number | null;
}

/** One writer's state as sampled from Redis for the gauges. */
export interface WriterGaugeSample {
  readonly writer: string;
  readonly backlog: number;
  readonly pendingBatches: number;
  readonly oldestPendingAgeSeconds: number;
  readonly captured: number;
  /** Records dead-lettered by the capture or the worker (the meta counter). */
  readonly deadLettered: number;
  /**
   * On a Redis Cluster, the backlog of the writer's slot logs on each primary (`host:port`), the writer's `{w}`
   * log not included; absent on one Redis.
   */
  readonly shards?: ReadonlyArray<{ readonly shard: string; readonly backlog: number }>;
}

export class WorkerMetrics {
  readonly registry = new Registry();
  readonly #batches: Counter<'writer'>;
  readonly #rows: Counter<'writer'>;
  readonly #records: Counter<'writer'>;
  readonly #deadLettered: Counter<'writer'>;
  readonly #retries: Counter<'writer' | 'kind'>;
  readonly #latency: Histogram<'writer'>;
  readonly #lag: Histogram<'writer'>;
  readonly #configMismatch: Gauge<'writer'>;
  #reading: () => GaugeReading = () => ({ writers: [], readAt: null });

  constructor() {
    const registers = [this.registry];
    this.#batches = new Counter({ name: 'writebehind_batches_total', help: 'Batches committed to MySQL', labelNames: ['writer'], registers });
    this.#rows = new Counter({ name: 'writebehind_committed_rows_total', help: 'Rows written to MySQL (after coalescing)', labelNames: ['writer'], registers });
    this.#records = new Counter({ name: 'writebehind_records_total', help: 'Capture records processed', labelNames: ['writer'], registers });
    this.#deadLettered = new Counter({ name: 'writebehind_dead_lettered_total', help: 'Records sent to the dead-letter stream by the worker', labelNames: ['writer'], registers });
    this.#retries = new Counter({ name: 'writebehind_retries_total', help: 'Batch retries after a retryable failure', labelNames: ['writer', 'kind'], registers });
    this.#latency = new Histogram({ name: 'writebehind_batch_duration_seconds', help: 'Time to write and commit one transaction (one batch, or consecutive batches of a backlog)', labelNames: ['writer'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers });
    this.#configMismatch = new Gauge({ name: 'writebehind_deployed_config_mismatch', help: "1 when the library was redeployed with a config that captures the writer otherwise than this worker's: the worker stopped taking its batches (restart it with the deployed config)", labelNames: ['writer'], registers });
    this.#lag = new Histogram({ name: 'writebehind_commit_lag_seconds', help: "Age of a batch's last record when it committed", labelNames: ['writer'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300], registers });
    const sampled = (name: string, help: string, pick: (s: WriterGaugeSample) => number) => {
      const read = () => this.#reading();
      new Gauge({
        name, help, labelNames: ['writer'], registers,
        collect() {
          this.reset();
          for (const sample of read().writers) this.set({ writer: sample.writer }, pick(sample));
        },
      });
    };
    sampled('writebehind_backlog_records', 'Captured records not yet committed (capture stream length)', (s) => s.backlog);
    sampled('writebehind_pending_batches', 'Batch descriptors not yet committed (with a worker or waiting for one)', (s) => s.pendingBatches);
    sampled('writebehind_oldest_pending_age_seconds', 'Age of the oldest uncommitted captured record', (s) => s.oldestPendingAgeSeconds);
    sampled('writebehind_captured_records', 'Records captured by the library (meta counter)', (s) => s.captured);
    // The worker's own counter cannot see what the capture rejects (an unknown # flag, a key without an id).
    sampled('writebehind_dead_lettered_records', 'Records dead-lettered since the library was first loaded, by the capture (unknown # flag, key without an id, ...) or the worker (meta counter)', (s) => s.deadLettered);
    // Per shard, never per slot: a label per slot log would be up to 16384 series per writer.
    const shardSamples = () => this.#reading().writers;
    new Gauge({
      name: 'writebehind_shard_backlog_records', help: "On a Redis Cluster: captured records not yet committed in the writer's slot logs on each primary", labelNames: ['writer', 'shard'], registers,
      collect() {
        this.reset();
        for (const sample of shardSamples()) for (const { shard, backlog } of sample.shards ?? []) this.set({ writer: sample.writer, shard }, backlog);
      },
    });
    const readAt = () => this.#reading().readAt;
    new Gauge({
      name: 'writebehind_gauges_age_seconds', help: 'Age of the reading of Redis the sampled gauges show (grows while Redis is unreachable)', registers,
      collect() {
        const at = readAt();
        this.reset();
        if (at !== null) this.set((Date.now() - at) / 1000);
      },
    });
  }

  /** Where the gauges read their values at scrape time: the last reading, at once (never a Redis round trip). */
  sampleWith(reading: () => GaugeReading): void {
    this.#reading = reading;
  }

  /** One transaction committed, covering `batches` batches. */
  batchesCommitted(writer: string, batches: number, records: number, rows: number, durationSeconds: number, lagSeconds: number): void {
    this.#batches.inc({ writer }, batches);
    this.#records.inc({ writer }, records);
    this.#rows.inc({ writer }, rows);
    this.#latency.observe({ writer }, durationSeconds);
    if (lagSeconds >= 0) this.#lag.observe({ writer }, lagSeconds);
  }

  deadLettered(writer: string, count: number): void {
    if (count > 0) this.#deadLettered.inc({ writer }, count);
  }

  /**
   * The worker's writers: each of their counters and histograms (retries of every kind) exposed at 0 before its
   * first event, since Prometheus' `increase()` sees no increase in a series that first appears at 1, so an
   * alert on a writer's first dead letter or retry would never fire.
   */
  exposeWriters(writers: readonly string[]): void {
    for (const writer of writers) {
      for (const counter of [this.#batches, this.#rows, this.#records, this.#deadLettered]) counter.inc({ writer }, 0);
      this.#latency.zero({ writer });
      this.#lag.zero({ writer });
      for (const kind of FAILURE_KINDS) this.#retries.inc({ writer, kind }, 0);
    }
  }

  /** The worker's writers, each matching the deployed config as at start-up. */
  configMatches(writers: readonly string[]): void {
    for (const writer of writers) this.#configMismatch.set({ writer }, 0);
  }

  /** A redeploy changed the writer's capture: the worker stopped it (Worker.stopWriter). */
  configMismatch(writer: string): void {
    this.#configMismatch.set({ writer }, 1);
  }

  retried(writer: string, kind: FailureKind): void {
    this.#retries.inc({ writer, kind });
  }
}
