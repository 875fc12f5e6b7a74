/**
 * The worker: flushes the batches the library cuts from each capture log to MySQL, one writer loop per log
 * (each on its own Redis connections, since it blocks in XREADGROUP): a writer's one log, or, for a writer with
 * `partitions: N`, each partition's log plus the unpartitioned one a previous layout may have left a backlog
 * in; the partitions start once that is drained (legacy-drain.ts). Several workers may run against one Redis:
 * the `workers` consumer group of each log shares its batches, and each log's batches still commit in order.
 * On a Redis Cluster (`connectCluster`) a writer has a log per slot, found and drained by ClusterPartitions.
 *
 * @example
 * const pool = createMysqlPool({ url: 'mysql://root@127.0.0.1:3306/test' });
 * const batchWriter = new MysqlBatchWriter({ pool, config });
 * await batchWriter.prepare();
 * const worker = new Worker({ config, batchWriter, connectRedis: () => RedisStreamClient.connect('redis://127.0.0.1:6380') });
 * worker.on('error', (error) => console.error(error));
 * await worker.start();
 * // ...
 * await worker.close();      // finishes the batch in flight (or, when Redis is down, leaves it pending)
 * await batchWriter.close();
 */
import { EventEmitter } from 'node:events';
import { ConfigError, RedisCommandError, errorMessage } from '../shared/errors.js';
import { sleep } from './backoff.js';
import { WriterStatusSampler, writerGauges } from './status-sampler.js';
import { clusterWriterGauges } from './cluster-writer-gauges.js';
import type { StreamClient } from './redis/stream-client.js';
import { WriterLoop } from './writer-loop.js';
import { partitionsOf, writerKeys, type StreamKeys } from '../shared/keys.js';
import type { WriterConfig } from '../shared/config.js';
import { legacyDrained } from './legacy-drain.js';
import { ClusterPartitions } from './cluster-partitions.js';
import { resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerOptions } from './worker-options.js';

/**
 * How long close() lets the writer loops finish their batches in flight. Past it, or as soon as Redis is
 * unreachable (a batch cannot commit without it), the Redis connections are cut: what waits on them fails, the
 * open transaction rolls back, and the batch stays pending for the next worker, as after a SIGKILL.
 */
const STOP_GRACE_MS = 5_000;

/** How often the metrics gauges' reading of Redis is refreshed. */
const GAUGE_READING_INTERVAL_MS = 2_000;

/** On a cluster a reading SCANs every primary and reads each slot log: taken less often. */
const CLUSTER_GAUGE_READING_INTERVAL_MS = 10_000;

export class Worker extends EventEmitter {
  readonly options: ResolvedWorkerOptions;
  readonly #abort = new AbortController();
  /** Per writer: aborted by stopWriter (a redeploy changed its capture), as #abort is by close(). */
  readonly #writerAborts = new Map<string, AbortController>();
  readonly #clients: StreamClient[] = [];
  #loops: Promise<void>[] = [];
  #sampler: WriterStatusSampler | undefined;
  #started: Promise<void> | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: WorkerOptions) {
    super();
    this.options = resolveWorkerOptions(options);
    for (const writer of this.options.config.writers) this.#writerAborts.set(writer.name, new AbortController());
    this.options.metrics?.exposeWriters(this.options.config.writers.map((w) => w.name));
    this.options.metrics?.configMatches(this.options.config.writers.map((w) => w.name));
  }

  /**
   * Stops a writer whose capture the deployed library now does otherwise (`problems`, as deployed-config.ts
   * names them): its loops take no new batch (the one being written was checked before: see
   * WriterLoop.#sameCapture), and what they hold stays pending in Redis for a worker restarted with the
   * deployed config (the same consumer name replays it at once; another reclaims it after claimMinIdleMs). The
   * other writers go on. Logs the fix, sets `writebehind_deployed_config_mismatch`, and emits
   * 'config-mismatch' with a ConfigError (`writebehind worker` exits 2 on it). Once per writer.
   */
  stopWriter(writer: string, problems: readonly string[]): void {
    const abort = this.#writerAborts.get(writer);
    if (abort === undefined || abort.signal.aborted) return;
    abort.abort();
    const { config, log, metrics } = this.options;
    metrics?.configMismatch(writer);
    const fix = 'restart the worker with the deployed config (the file `writebehind deploy` was given): it writes the pending batches';
    const error = new ConfigError(`library '${config.name}' was redeployed with a config that does not match this worker's for writer '${writer}': ${problems.join('; ')}. The worker takes no more of its batches; they stay pending in Redis`, {
      context: { library: config.name, writer, problems, suggestion: fix },
    });
    log.error({ writer, problems }, `${error.message}: ${fix}`);
    this.emit('config-mismatch', error);
  }

  /** Connects and starts every writer loop; rejects when Redis cannot be reached at all. */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    const { config, log, metrics } = this.options;
    const cluster = this.options.connectCluster === undefined ? undefined : await this.options.connectCluster();
    if (cluster !== undefined) this.#clients.push(cluster);
    for (const writer of config.writers) {
      const count = writer.partitions ?? 1;
      const legacy = await this.#loop(writer, writerKeys(writer.name));
      this.#loops.push(legacy.run());
      if (cluster !== undefined) {
        // On a cluster a partition is a slot, whatever `partitions` says (docs/scale-out.md).
        const slots = new ClusterPartitions({ writer, options: this.options, client: cluster, signal: this.#signalOf(writer), report: (error) => this.#report(error), configMismatch: (problems) => this.stopWriter(writer.name, problems) });
        this.#loops.push(this.#afterLegacy(writer, cluster, () => slots.run()));
        continue;
      }
      if (count === 1) continue;
      const partitions = await Promise.all(partitionsOf(writer.name, count).map((keys) => this.#loop(writer, keys)));
      // The first partition's connection is idle until its loop starts: it does the polling.
      this.#loops.push(this.#afterLegacy(writer, partitions[0]!.client, () => Promise.all(partitions.map((partition) => partition.run()))));
    }
    if (metrics !== undefined) {
      // On a cluster the gauges cover every shard's slot logs (and cost a command or more per log).
      const sampled = this.options.connectCluster === undefined ? undefined : await this.options.connectCluster();
      const client = sampled ?? (await this.options.connectRedis());
      this.#clients.push(client);
      this.#sampler = new WriterStatusSampler(sampled === undefined ? writerGauges(client) : clusterWriterGauges(sampled), config.writers);
      this.#sampler.start(sampled === undefined ? GAUGE_READING_INTERVAL_MS : CLUSTER_GAUGE_READING_INTERVAL_MS);
      metrics.sampleWith(() => this.#sampler!.latest());
    }
    log.info({ consumer: this.options.consumer, writers: config.writers.map((w) => w.name), library: config.name }, 'worker started');
  }

  /** A loop over one capture log, on two connections of its own. */
  async #loop(writer: WriterConfig, keys: StreamKeys): Promise<{ client: StreamClient; run: () => Promise<void> }> {
    const client = await this.options.connectRedis();
    this.#clients.push(client);
    const reader = await this.options.connectRedis();
    this.#clients.push(reader);
    const loop = new WriterLoop({ writer, keys, options: this.options, client, reader, signal: this.#signalOf(writer), report: (error) => this.#report(error), configMismatch: (problems) => this.stopWriter(writer.name, problems) });
    return { client, run: async () => void (await loop.run()) };
  }

  /** Runs a partitioned writer's partition loops once its unpartitioned log is drained (per-key order). */
  async #afterLegacy(writer: WriterConfig, client: StreamClient, runPartitions: () => Promise<unknown>): Promise<void> {
    const { log, blockMs } = this.options;
    const drained = await legacyDrained(client, writerKeys(writer.name), Math.min(blockMs, 100), this.#signalOf(writer), (backlog) =>
      log.info({ writer: writer.name, backlog }, 'draining the unpartitioned capture stream before the partitions (per-key order)'),
    );
    if (!drained) return;
    log.info({ writer: writer.name, partitions: this.options.connectCluster === undefined ? writer.partitions : 'a log per slot' }, 'partition loops started');
    await runPartitions();
  }

  /**
   * Stops reading, lets each writer finish the batch in flight (see STOP_GRACE_MS: not when Redis is down),
   * and closes the Redis connections. Safe to call twice (the same promise); every step runs even if one
   * fails, failures are emitted as 'error'.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#abort.abort();
    try {
      await this.#started;
    } catch {
      // start() already rejected to its caller; close what it opened.
    }
    this.#sampler?.stop();
    const loops = Promise.allSettled(this.#loops);
    if (!(await this.#settlesWhileRedisAnswers(loops))) {
      this.options.log.warn({ graceMs: STOP_GRACE_MS }, 'batches in flight cannot finish (Redis down, or the grace is over): cutting the Redis connections; they stay pending for the next worker');
      for (const client of this.#clients) client.destroy();
    }
    await loops;
    const results = await Promise.allSettled(this.#clients.map((client) => client.close()));
    for (const result of results) {
      if (result.status === 'rejected') this.#report(new RedisCommandError(`closing a Redis connection failed: ${errorMessage(result.reason)}`, { cause: result.reason }));
    }
    this.options.log.info('worker stopped');
  }

  /** True when `loops` settle within STOP_GRACE_MS, false as soon as a Redis connection is down or the grace ends. */
  async #settlesWhileRedisAnswers(loops: Promise<unknown>): Promise<boolean> {
    let settled = false;
    void loops.then(() => (settled = true));
    const deadline = Date.now() + STOP_GRACE_MS;
    while (!settled) {
      if (Date.now() >= deadline || this.#clients.some((client) => !client.isReady())) return false;
      await Promise.race([loops, sleep(50)]);
    }
    return true;
  }

  /** Aborted by close() or by stopWriter(writer). */
  #signalOf(writer: WriterConfig): AbortSignal {
    return AbortSignal.any([this.#abort.signal, this.#writerAborts.get(writer.name)!.signal]);
  }

  /** Background failures go to 'error' listeners; without one they are only logged (an unheard 'error' would crash). */
  #report(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}
