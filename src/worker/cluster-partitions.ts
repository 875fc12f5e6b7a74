/**
 * One writer's per-slot logs on a Redis Cluster (docs/scale-out.md, how the worker finds work): a writer has a
 * capture log per slot that ever held one of its keys, up to 16384, so the worker does not run a loop per log.
 * It asks each primary's library which of its logs have batches to commit (`ready`, which also cuts the logs
 * whose oldest record waited batch.maxDelayMs, or, when the worker has none of that node's logs in hand, every
 * log with open records: group commit), a chunk of logs per call; now and then it sweeps (SCAN) for the
 * logs that memory-only index cannot know (batches cut before a restart, a redeploy or a failover, logs that
 * arrived by a slot migration) and names them to `adopt`, which takes them into the index; and it drains each
 * log found with a WriterLoop that returns once the log is idle. Those loops share one cluster client and never
 * block on it.
 *
 * Per-slot batches are small, so the loops write through one SharedTransaction (and mark them committed through
 * one CommittedCalls, a `committed_many` per shard): the batches of every log with
 * work (on all shards) are committed together, a transaction at a time, and each loop's Redis commands go out
 * beside the others' on the shared client (pipelined per shard). Order and exactly-once stay each log's
 * WriterLoop's (a batch only after its predecessor committed, one exactly-once row per log, moved in the shared
 * transaction); several workers share the logs through each log's `workers` group.
 *
 * @internal
 */
import type { WriterConfig } from '../shared/config.js';
import { CLUSTER_SLOTS } from '../shared/key-slot.js';
import { WORKER_GROUP, partitionKeys, type StreamKeys } from '../shared/keys.js';
import type { Logger } from '../shared/log.js';
import { sleep } from './backoff.js';
import { CommittedCalls } from './committed-calls.js';
import { FailureReporter } from './failure-reporter.js';
import { SharedTransaction } from './shared-transaction.js';
import { slotLogsOn } from './slot-logs.js';
import type { ClusterClient } from './redis/stream-client.js';
import type { ResolvedWorkerOptions } from './worker-options.js';
import { WriterLoop } from './writer-loop.js';

export interface ClusterPartitionsContext {
  readonly writer: WriterConfig;
  readonly options: ResolvedWorkerOptions;
  /** Shared by the index polls, the sweeps and every log's loop (none of them blocks). */
  readonly client: ClusterClient;
  readonly signal: AbortSignal;
  readonly report: (error: unknown) => void;
  /** See WriterLoopContext.configMismatch. */
  readonly configMismatch: (problems: readonly string[]) => void;
}

/** How often slot ownership is compared (one CLUSTER SLOTS): a change starts a sweep. */
const TOPOLOGY_CHECK_MS = 1000;

/**
 * Logs one `ready` call cuts at most, and lists at most besides those, and logs the sweep names to one `adopt`:
 * each cut is 3–5 Redis calls inside the function, which holds the shard's lock (every client of the shard
 * waits) and must end within lock-redis-timeout.
 */
const READY_CHUNK = 100;

/** The writer's log of each slot, built once (16384 names; the tags come from key-slot.ts's table). */
function slotLogs(writer: string): StreamKeys[] {
  return Array.from({ length: CLUSTER_SLOTS }, (_, slot) => partitionKeys(writer, slot, CLUSTER_SLOTS));
}

export class ClusterPartitions {
  readonly #ctx: ClusterPartitionsContext;
  readonly #log: Logger;
  readonly #failures: FailureReporter;
  readonly #logs: StreamKeys[];
  readonly #byStream: Map<string, StreamKeys>;
  /**
   * Logs with a loop running. Work found for one of them meanwhile needs nothing: what the loop leaves behind
   * is listed again by the next poll (running it again at once would spin on a log that waits for a batch
   * another worker holds).
   */
  readonly #active = new Set<string>();
  /** Logs found with work while the most loops were running, in the order found. */
  readonly #queued = new Set<string>();
  readonly #loops = new Set<Promise<void>>();
  /** Logs whose batches another consumer holds, not drained again before the time given (see #restIfHeldElsewhere). */
  readonly #resting = new Map<string, number>();
  /** Logs a loop of this worker drained to the end: their group exists and nothing is pending for this consumer. */
  readonly #resynced = new Set<string>();
  /** The sweep in flight (it runs beside the `ready` polls). */
  #sweeping: Promise<void> | undefined;
  /** Every log's loop writes through it. */
  readonly #transaction: SharedTransaction;
  /** Every log's loop calls `committed` through it (one call per shard for the logs of a transaction). */
  readonly #committed: CommittedCalls;

  constructor(ctx: ClusterPartitionsContext) {
    this.#ctx = ctx;
    this.#log = ctx.options.log.child({ writer: ctx.writer.name });
    this.#failures = new FailureReporter(this.#log, ctx.report);
    this.#logs = slotLogs(ctx.writer.name);
    this.#byStream = new Map(this.#logs.map((keys) => [keys.changes, keys] as const));
    this.#transaction = new SharedTransaction(ctx.options.batchWriter, ctx.options.groupRecords);
    this.#committed = new CommittedCalls(ctx.client, ctx.options.config.name);
  }

  /** Runs until the signal aborts, then waits for the loops in flight; never rejects. */
  async run(): Promise<void> {
    const { signal, options, client } = this.#ctx;
    const pollMs = Math.min(options.blockMs, options.config.batch.maxDelayMs);
    let lastSweep = 0;
    let lastCheck = 0;
    let topology = '';
    // On start, when slot ownership changes (a slot moved, a replica promoted: looked at every second), and
    // every clusterSweepMs.
    let sweepDue = true;
    while (!signal.aborted) {
      try {
        if (Date.now() - lastCheck >= TOPOLOGY_CHECK_MS) {
          lastCheck = Date.now();
          const seen = await client.slotOwners();
          if (seen !== topology) sweepDue = true;
          topology = seen;
        }
        // With a round of loops' worth of logs still queued, `ready` is not asked: its answer costs the node a
        // read per log with batches in flight (thousands under a backlog), and would only list them again.
        if (this.#queued.size < options.clusterActiveLogs) await this.#askReady();
        if (Date.now() - lastSweep >= options.clusterSweepMs) sweepDue = true;
        // Beside the polls (its `adopt` calls take the logs a chunk at a time). A change seen while a sweep runs
        // is swept again after it.
        if (sweepDue && this.#sweeping === undefined) {
          sweepDue = false;
          lastSweep = Date.now();
          this.#sweeping = this.#sweep()
            .catch((error: unknown) => {
              // Swept again at the next poll; `ready` goes on meanwhile.
              sweepDue = true;
              if (!signal.aborted) this.#failures.failed(error, `writer ${this.#ctx.writer.name} (cluster sweep)`);
            })
            .finally(() => (this.#sweeping = undefined));
        }
      } catch (error) {
        if (signal.aborted) break;
        this.#failures.failed(error, `writer ${this.#ctx.writer.name} (cluster index)`);
      }
      await sleep(pollMs, signal);
    }
    await this.#sweeping;
    while (this.#loops.size > 0) await Promise.allSettled([...this.#loops]);
  }

  /**
   * The logs with batches to commit, as every primary's `ready` lists them (it cuts due ones first), a chunk of
   * READY_CHUNK logs per call: a node with more is asked again at once, until a round of loops' worth is queued.
   */
  async #askReady(): Promise<void> {
    const { client, options, writer, signal } = this.#ctx;
    const busy = this.#busyNodes();
    try {
      await Promise.all(client.primaries().map(async (node) => {
        // Group commit: with nothing of this node's logs in hand, whatever is open there is cut now (0), in this
        // same call; waiting for maxDelayMs would only add to every change's latency. While the worker drains
        // logs of the node, their next batches grow meanwhile, and maxDelayMs is the longest wait.
        const maxDelayMs = busy.has(node) ? options.config.batch.maxDelayMs : 0;
        for (;;) {
          const { streams, more } = await client.ready(node, options.config.name, writer.name, maxDelayMs, READY_CHUNK);
          // Again while it brings logs not running or queued yet (those it lists again need nothing).
          let fresh = 0;
          for (const stream of streams) if (this.#found(stream)) fresh++;
          if (!more || fresh === 0 || signal.aborted || this.#queued.size >= options.clusterActiveLogs) break;
        }
      }));
      this.#failures.succeeded(`writer ${writer.name} (cluster index)`);
    } catch (error) {
      if (!signal.aborted) this.#failures.failed(error, `writer ${writer.name} (cluster index)`);
    }
  }

  /**
   * The primaries (as the topology last seen says) serving a log this worker drains or has queued: their
   * batches are in hand or in flight. A log whose node is unknown counts for none.
   */
  #busyNodes(): Set<string> {
    const busy = new Set<string>();
    for (const stream of [...this.#active, ...this.#queued]) {
      const node = this.#ctx.client.nodeOf(stream);
      if (node !== undefined) busy.add(node);
    }
    return busy;
  }

  /**
   * Every slot's log on every primary (slot-logs.ts), named to its node's `adopt` a chunk at a time: their open
   * records may be unknown to the node's library (they came with a migrated slot, or were counted, or cut, by an
   * instance before a restart or failover), so `ready` would never cut or list them otherwise. `adopt` takes them
   * into its index, cuts what is due and lists those with work.
   */
  async #sweep(): Promise<void> {
    const { client, writer, options, signal } = this.#ctx;
    let found = 0;
    for (const node of client.primaries()) {
      if (signal.aborted) return;
      const logs = (await slotLogsOn(client, node, writer.name)).map((keys) => keys.changes);
      found += logs.length;
      for (let from = 0; from < logs.length && !signal.aborted; from += READY_CHUNK) {
        const ready = await client.adopt(node, options.config.name, writer.name, options.config.batch.maxDelayMs, logs.slice(from, from + READY_CHUNK));
        for (const stream of ready) this.#found(stream);
      }
    }
    this.#log.debug({ logs: found }, 'cluster sweep');
  }

  /**
   * A log has work: drain it now, or when a loop is free (unless its loop runs already). Whether that is news
   * (it was neither running, queued nor resting).
   */
  #found(stream: string): boolean {
    if (this.#ctx.signal.aborted) return false;
    if (this.#active.has(stream) || this.#queued.has(stream) || (this.#resting.get(stream) ?? 0) > Date.now()) return false;
    if (this.#active.size < this.#ctx.options.clusterActiveLogs) this.#drain(stream);
    else this.#queued.add(stream);
    return true;
  }

  #drain(stream: string): void {
    const keys = this.#byStream.get(stream);
    if (keys === undefined) {
      this.#log.warn({ stream }, 'the library listed a log that is not one of this writer\'s slot logs; ignored');
      return;
    }
    this.#active.add(stream);
    const { writer, options, client, signal, report, configMismatch } = this.#ctx;
    const resynced = this.#resynced.has(stream);
    const claimIdleLater = !this.#resting.has(stream);
    const loop = new WriterLoop({ writer, keys, options, client, reader: client, signal, report, configMismatch, untilIdle: true, writes: this.#transaction, committed: this.#committed, resynced, claimIdleLater });
    const running = loop.run().then(async (committed) => {
      if (signal.aborted) return;
      this.#resynced.add(stream);
      if (committed) this.#resting.delete(stream);
      else await this.#restIfHeldElsewhere(keys);
    }).finally(() => {
      this.#loops.delete(running);
      this.#active.delete(stream);
      const next = this.#queued.values().next();
      if (!next.done) {
        this.#queued.delete(next.value);
        this.#found(next.value);
      }
    });
    this.#loops.add(running);
  }

  /**
   * A loop ends when this worker holds nothing of the log. If it committed nothing and batches are still
   * pending, another consumer holds them: a live one commits them, a dead one's are reclaimed after
   * claimMinIdleMs. `ready` lists the log at every poll until then; starting a loop each time would only repeat
   * the same reads, so the log rests for claimIntervalMs (the pace at which a loop looks for idle batches anyway).
   */
  async #restIfHeldElsewhere(keys: StreamKeys): Promise<void> {
    if (this.#ctx.signal.aborted) return;
    try {
      if ((await this.#ctx.client.pendingCount(keys.batches, WORKER_GROUP)) > 0) this.#resting.set(keys.changes, Date.now() + this.#ctx.options.claimIntervalMs);
      else this.#resting.delete(keys.changes);
    } catch {
      // Unknown: no rest; the next poll lists the log again if it still has work.
    }
  }
}
