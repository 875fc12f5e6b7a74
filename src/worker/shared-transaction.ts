/**
 * The batches of many capture logs in one MySQL transaction. On a Redis Cluster a writer has a log per slot and
 * each log's batches are small, so the loops of a writer's slot logs (cluster-partitions.ts) write through one
 * SharedTransaction instead of the batch writer: a loop's write joins the next transaction, one transaction is
 * in flight at a time, and the writes that arrive meanwhile go into the one after it (nothing waits when one
 * log alone has work). Rows are merged per table as for one log (MysqlBatchWriter.writeMany).
 *
 * Everything else stays each log's, in its loop (writer-loop.ts, group-commit.ts): a log's parts go in order (a
 * loop sends its next part only once this one is committed), its exactly-once cursor moves in the transaction,
 * its hook (ownership check, dead letters) runs just before the COMMIT, its acks and `committed` after it.
 * A hook that vetoes (another worker reclaimed that log's batches) or fails rolls the whole transaction back:
 * that write resolves with its veto or rejects, and the others are written again in the next transaction
 * (their hooks run again: a dead letter may repeat, as on any replay). A failed transaction rejects every write
 * in it; each loop retries its own (step-retry.ts).
 *
 * @internal
 */
import type { BatchWriteResult, BatchWriter, WriteBatch, WriteHooks, WriteOutcome } from './batch-writer.js';

/** Writes one batch in a transaction: the batch writer itself, or a SharedTransaction. */
export type BatchWrites = Pick<BatchWriter, 'write'>;

interface Write {
  readonly batch: WriteBatch;
  readonly hooks: WriteHooks<unknown>;
  readonly resolve: (outcome: WriteOutcome<unknown>) => void;
  readonly reject: (error: unknown) => void;
}

/** A hook's decision: commit (undefined), veto, or it failed. */
type Decision = PromiseSettledResult<{ readonly veto: unknown } | void>;

export class SharedTransaction implements BatchWrites {
  readonly #writer: BatchWriter;
  readonly #maxRecords: number;
  readonly #queue: Write[] = [];
  #running = false;

  /** `maxRecords`: records one transaction takes at most (a single write may exceed it). */
  constructor(writer: BatchWriter, maxRecords: number) {
    this.#writer = writer;
    this.#maxRecords = maxRecords;
  }

  write<V = never>(batch: WriteBatch, hooks: WriteHooks<V> = {}): Promise<WriteOutcome<V>> {
    return new Promise<WriteOutcome<V>>((resolve, reject) => {
      this.#queue.push({ batch, hooks, resolve: resolve as (outcome: WriteOutcome<unknown>) => void, reject });
      if (!this.#running) void this.#run();
    });
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) await this.#commit(this.#take());
    } finally {
      this.#running = false;
    }
  }

  /** The writes of the next transaction, in arrival order: up to maxRecords, one per stream. */
  #take(): Write[] {
    const taken: Write[] = [];
    const streams = new Set<string>();
    let records = 0;
    for (let i = 0; i < this.#queue.length; ) {
      const write = this.#queue[i]!;
      const fits = taken.length === 0 || records + write.batch.records.length <= this.#maxRecords;
      if (!fits || streams.has(write.batch.stream)) {
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      taken.push(write);
      streams.add(write.batch.stream);
      records += write.batch.records.length;
    }
    return taken;
  }

  async #commit(writes: readonly Write[]): Promise<void> {
    let decisions: Decision[] = [];
    let results: readonly BatchWriteResult[];
    let vetoed: boolean;
    try {
      const outcome = await this.#writer.writeMany(writes.map((w) => w.batch), {
        beforeCommit: async (each) => {
          decisions = await Promise.allSettled(writes.map((w, i) => w.hooks.beforeCommit?.(each[i]!)));
          // Any veto or failure rolls back every log's rows (they share the statements).
          return decisions.some((d) => d.status === 'rejected' || d.value !== undefined) ? { veto: true } : undefined;
        },
      });
      results = outcome.results;
      vetoed = outcome.veto === true;
    } catch (error) {
      for (const write of writes) write.reject(error);
      return;
    }
    const again: Write[] = [];
    writes.forEach((write, i) => {
      const decision = decisions[i];
      if (!vetoed) write.resolve(results[i]!);
      else if (decision?.status === 'rejected') write.reject(decision.reason);
      else if (decision?.value !== undefined) write.resolve({ ...results[i]!, veto: decision.value.veto });
      else again.push(write);
    });
    this.#queue.unshift(...again);
  }
}
