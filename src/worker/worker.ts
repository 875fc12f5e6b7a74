/**
 * The worker: flushes the batches the library cuts from each writer's capture stream to MySQL, one writer loop
 * per configured writer (each on its own Redis connection, since it blocks in XREADGROUP). Several workers may
 * run against one Redis: the `workers` consumer group shares the batches, and each writer's batches still
 * commit in stream order.
 *
 * @example
 * const pool = createMysqlPool({ url: 'mysql://root@127.0.0.1:3306/test' });
 * const batchWriter = new MysqlBatchWriter({ pool, config });
 * await batchWriter.prepare();
 * const worker = new Worker({ config, batchWriter, connectRedis: () => RedisStreamClient.connect('redis://127.0.0.1:6380') });
 * worker.on('error', (error) => console.error(error));
 * await worker.start();
 * // ...
 * await worker.close();      // finishes the batch in flight
 * await batchWriter.close();
 */
import { EventEmitter } from 'node:events';
import { RedisCommandError, errorMessage } from '../shared/errors.js';
import type { StreamClient } from './stream-client.js';
import { readWriterStatus } from './writer-status.js';
import { WriterLoop } from './writer-loop.js';
import { resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerOptions } from './worker-options.js';

export class Worker extends EventEmitter {
  readonly options: ResolvedWorkerOptions;
  readonly #abort = new AbortController();
  readonly #clients: StreamClient[] = [];
  #loops: Promise<void>[] = [];
  #started: Promise<void> | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: WorkerOptions) {
    super();
    this.options = resolveWorkerOptions(options);
  }

  /** Connects and starts every writer loop; rejects when Redis cannot be reached at all. */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    const { config, log, metrics } = this.options;
    for (const writer of config.writers) {
      const client = await this.options.connectRedis();
      this.#clients.push(client);
      const reader = await this.options.connectRedis();
      this.#clients.push(reader);
      const loop = new WriterLoop({ writer, options: this.options, client, reader, signal: this.#abort.signal, report: (error) => this.#report(error) });
      this.#loops.push(loop.run());
    }
    if (metrics !== undefined) {
      const client = await this.options.connectRedis();
      this.#clients.push(client);
      metrics.sampleWith(async () =>
        Promise.all(config.writers.map(async (writer) => {
          const status = await readWriterStatus(client, writer.name);
          return { writer: writer.name, backlog: status.backlog, pendingBatches: status.queuedBatches, oldestPendingAgeSeconds: status.oldestPendingAgeMs / 1000, captured: status.captured };
        })),
      );
    }
    log.info({ consumer: this.options.consumer, writers: config.writers.map((w) => w.name), library: config.name }, 'worker started');
  }

  /**
   * Stops reading, lets each writer finish the batch in flight, and closes the Redis connections. Safe to call
   * twice (the same promise); every step runs even if one fails, failures are emitted as 'error'.
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
    await Promise.allSettled(this.#loops);
    const results = await Promise.allSettled(this.#clients.map((client) => client.close()));
    for (const result of results) {
      if (result.status === 'rejected') this.#report(new RedisCommandError(`closing a Redis connection failed: ${errorMessage(result.reason)}`, { cause: result.reason }));
    }
    this.options.log.info('worker stopped');
  }

  /** Background failures go to 'error' listeners; without one they are only logged (an unheard 'error' would crash). */
  #report(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}
