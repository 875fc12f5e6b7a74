/**
 * The batching of rgsync's write-behind (RedisGears 1 `aggregate` step with `batch=100, duration=100`): records
 * collect into a batch that is written when it holds `batchSize` records, or `durationMs` after its first
 * record when it does not fill up. Batches are written one at a time, in order, on one connection.
 */

export interface RgsyncBatcherOptions<T> {
  readonly batchSize: number;
  readonly durationMs: number;
  /** Writes one batch (one transaction in rgsync). */
  readonly write: (batch: T[]) => Promise<void>;
}

export class RgsyncBatcher<T> {
  readonly #options: RgsyncBatcherOptions<T>;
  #pending: T[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(options: RgsyncBatcherOptions<T>) {
    this.#options = options;
  }

  /** Adds a record; resolves once the batch it completed (if any) is written, so a producer is paced by MySQL. */
  add(record: T): Promise<void> {
    this.#pending.push(record);
    if (this.#pending.length >= this.#options.batchSize) return this.flush();
    this.#timer ??= setTimeout(() => void this.flush(), this.#options.durationMs);
    return Promise.resolve();
  }

  /** Writes what is pending (the timer's path, and the end of a drain); resolves when every batch is written. */
  flush(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length > 0) this.#writing = this.#writing.then(() => this.#options.write(batch));
    return this.#writing;
  }
}
