/**
 * The work of one writer inside a Worker: read batch descriptors with the `workers` group, and write the
 * batches strictly in stream order, so the changes of one key reach MySQL in the order they were made.
 *
 * This loop keeps the order and the rounds; each step has its room:
 * - batch-claims.ts: the descriptors held (XREADGROUP, reclaiming idle ones, the heartbeat);
 * - read-ahead.ts: the next group's first part read on a second connection while the current one commits;
 * - group-commit.ts: one group written in parts, one transaction each (on a cluster, each shared with other
 *   slot logs' parts: shared-transaction.ts), the ownership veto before COMMIT,
 *   dead letters (batch-dead-letters.ts), acks, then the library's `committed` per batch, which go out while
 *   the next group is written (in order: each group's after the one before; awaited before the cursor is
 *   read again and before the loop ends);
 * - step-retry.ts: each step retried with backoff until it succeeds or shutdown stops the waiting;
 * - deployed-config-watch.ts: a group whose batches the library cut under another capture config (a redeploy)
 *   is not written when the deployed config no longer matches: the writer stops, the group stays pending.
 *
 * A kill at any point leaves the descriptors pending, and the replay is harmless:
 * - before COMMIT: the transaction rolls back; the replay writes the batch (dead letters may repeat);
 * - after COMMIT, before `committed`: the replay writes the same row images again in the same order (or, with
 *   the exactly-once table, skips them); acks already written are not repeated with exactly-once.
 *
 * @internal
 */
import { captureStamp } from '../shared/capture-config.js';
import { compareStreamIds } from '../shared/stream-id.js';
import type { StreamKeys } from '../shared/keys.js';
import { LibraryFunction, MetaField } from '../shared/protocol.js';
import type { Logger } from '../shared/log.js';
import type { WriterConfig } from '../shared/config.js';
import { Backoff, sleep } from './backoff.js';
import { BatchClaims } from './batch-claims.js';
import type { BatchGroup } from './batch-group.js';
import { FailureReporter, failureKind } from './failure-reporter.js';
import { GroupCommit } from './group-commit.js';
import { ReadAhead } from './read-ahead.js';
import { ReplicaWait } from './replica-wait.js';
import type { CommittedCalls } from './committed-calls.js';
import type { BatchWrites } from './shared-transaction.js';
import { RecordReader, type RecordPart } from './record-reader.js';
import type { StreamClient } from './redis/stream-client.js';
import { StepRetry, StoppedError } from './step-retry.js';
import type { ResolvedWorkerOptions } from './worker-options.js';

export interface WriterLoopContext {
  readonly writer: WriterConfig;
  /** The capture log this loop drains: the writer's (`writerKeys`) or one partition's (`partitionKeys`). */
  readonly keys: StreamKeys;
  readonly options: ResolvedWorkerOptions;
  /** This loop's own connection: it blocks in XREADGROUP. */
  readonly client: StreamClient;
  /**
   * A second connection of its own, for reading the next group's records while the current group commits: on
   * `client` that XRANGE would queue the current group's ownership check and `committed` behind it.
   */
  readonly reader: StreamClient;
  /** Aborted by Worker.close(): finish the batch in flight, then stop. */
  readonly signal: AbortSignal;
  /**
   * Return once nothing is held and no new descriptor came, and never block in XREADGROUP: the loop of one
   * slot's log on a cluster, on a client shared by many such loops (cluster-partitions.ts starts it again when
   * the log has work). Otherwise the loop runs until the signal aborts.
   */
  readonly untilIdle?: boolean;
  /** Background failures, reported once per state change. */
  readonly report: (error: unknown) => void;
  /**
   * The deployed library captures this writer otherwise than this worker's config (a redeploy, seen in a
   * batch's stamp): stops the writer's loops (Worker.stopWriter aborts `signal`).
   */
  readonly configMismatch: (problems: readonly string[]) => void;
  /**
   * For a slot log's loop on a cluster (cluster-partitions.ts), which starts many times: `resynced`, a loop of
   * this worker ran on the log before and left nothing pending for this consumer, so the group exists and the
   * first resync is skipped; `claimIdleLater`, no other consumer was seen holding the log's batches, so the
   * first look for idle ones (XAUTOCLAIM) waits claimIntervalMs like the later ones. Each saves a command per log.
   */
  readonly resynced?: boolean;
  readonly claimIdleLater?: boolean;
  /**
   * Where the loop's transactions go: by default its own, through the batch writer; a slot log's loop on a
   * cluster joins a transaction shared with the writer's other slot logs (shared-transaction.ts).
   */
  readonly writes?: BatchWrites;
  /** A slot log's loop on a cluster: its `committed` calls gathered per shard with the other logs' (committed-calls.ts). */
  readonly committed?: CommittedCalls;
}

/**
 * How often a loop whose next batch waits for an earlier one (held by another worker) looks at the commit
 * cursor again: after WAITING_POLL_MS, then twice as long after each look, up to WAITING_POLL_MAX_MS (and
 * blockMs). Blocking in XREADGROUP instead would notice the commit only when new descriptors arrive or the
 * block times out, and one writer's batches move from worker to worker at every commit. The cap bounds how
 * late the commit is seen however long the wait was: a live worker may take seconds over a batch (a large one,
 * a slow MySQL), so a long wait does not mean a dead one. It also keeps a wait for a dead worker's batch (until
 * it is reclaimed) to a few looks a second.
 */
const WAITING_POLL_MS = 10;
const WAITING_POLL_MAX_MS = 200;

/**
 * How often, per batch.maxDelayMs, an idle loop offers the open records to `cut`. `cut` cuts only once the oldest
 * waited maxDelayMs; offered once per maxDelayMs, records just younger than that at one offer waited for the
 * next, nearly twice as long (the median HSET → row visible was ~110 ms with the default 100 ms). Four offers
 * keep the wait within 1.25 × maxDelayMs for a TFCALL every 25 ms.
 */
const CUT_OFFERS_PER_DELAY = 4;

/** How a round of #processReady ended. */
type RoundEnd =
  /** It read the descriptors that follow: process them at once. */
  | 'more'
  /** Nothing held is ready: wait for new descriptors. */
  | 'idle'
  /** The next batch waits for an earlier one another worker holds: look at the cursor again soon. */
  | 'waiting';

export class WriterLoop {
  readonly #ctx: WriterLoopContext;
  readonly #keys: StreamKeys;
  readonly #log: Logger;
  readonly #failures: FailureReporter;
  /** Descriptors this consumer holds (pending for it). */
  readonly #held: BatchClaims;
  #waitingOn: string | undefined;
  /** The next pause of the current wait for an earlier batch (see WAITING_POLL_MS). */
  #waitingPollMs = WAITING_POLL_MS;
  readonly #reader: RecordReader;
  readonly #readAhead: ReadAhead;
  readonly #groupCommit: GroupCommit;
  readonly #retry: StepRetry;
  /** waitReplicas > 0: the replicas a group must be on before it is written. */
  readonly #replicas: ReplicaWait | null;
  /** The `committed` calls of the last group committed, still under way (they never reject: see #marked). */
  #marking: Promise<void> = Promise.resolve();
  /** Why those calls stopped: shutdown interrupted their retry (StoppedError). */
  #markingStopped: unknown;
  /** A batch was committed (or finished) by this run. */
  #committedAny = false;
  /** This worker's capture stamp of the writer: batches the library cut under the same config carry it. */
  readonly #stamp: string;

  constructor(ctx: WriterLoopContext) {
    this.#ctx = ctx;
    this.#keys = ctx.keys;
    this.#stamp = captureStamp(ctx.writer);
    this.#reader = new RecordReader(this.#keys.changes, { pageSize: ctx.options.rangePageSize, partBytes: ctx.options.groupBytes });
    this.#log = ctx.options.log.child({ writer: ctx.writer.name });
    this.#failures = new FailureReporter(this.#log, ctx.report);
    this.#held = new BatchClaims(ctx.client, this.#keys, ctx.options, this.#log);
    const readPart = (group: BatchGroup, after: string, client: StreamClient) => this.#readPart(group, after, client);
    this.#readAhead = new ReadAhead(readPart, ctx.client, ctx.reader, ctx.options.groupRecords);
    this.#retry = new StepRetry({ writer: ctx.writer.name, meta: this.#keys.meta, client: ctx.client, options: ctx.options, signal: ctx.signal, failures: this.#failures });
    const { waitReplicas, waitReplicasTimeoutMs } = ctx.options;
    this.#replicas = waitReplicas > 0 ? new ReplicaWait(ctx.client, this.#keys.meta, { replicas: waitReplicas, timeoutMs: waitReplicasTimeoutMs }) : null;
    this.#groupCommit = new GroupCommit({ writer: ctx.writer.name, keys: this.#keys, options: ctx.options, client: ctx.client, log: this.#log, retry: this.#retry, readPart, writes: ctx.writes ?? ctx.options.batchWriter, committed: ctx.committed });
  }

  /**
   * Runs until the signal aborts (or, `untilIdle`, the log is idle); never rejects (failures are retried and
   * reported). Resolves whether it committed any batch.
   */
  async run(): Promise<boolean> {
    const { signal, options } = this.#ctx;
    const backoff = new Backoff(options.retryInitialDelayMs, options.retryMaxDelayMs);
    this.#held.startHeartbeat();
    let resync = this.#ctx.resynced !== true;
    if (this.#ctx.claimIdleLater === true) this.#held.deferClaim();
    let lastCut = 0;
    const cutEvery = Math.max(1, Math.floor(options.config.batch.maxDelayMs / CUT_OFFERS_PER_DELAY));
    try {
      while (!signal.aborted) {
        try {
          if (resync) {
            // On start (and after any failure): the group may be new or gone, and our own pending descriptors
            // (of a previous run under this consumer name) come first.
            await this.#held.resync();
            resync = false;
          }
          await this.#held.claimIdle();
          const end = await this.#processReady();
          if (signal.aborted) break;
          if (end === 'waiting') {
            // Take new descriptors without blocking (unless many are held already: leave them to other workers).
            await this.#held.readNew();
            const pause = this.#waitingPollMs;
            this.#waitingPollMs = Math.min(2 * pause, WAITING_POLL_MAX_MS, options.blockMs);
            await sleep(pause, signal);
          } else if (end === 'idle') {
            this.#reader.idle();
            if (this.#ctx.untilIdle === true) {
              // Done once nothing is held and no descriptor is new. After committing what its last read took,
              // when that read took every new one, the loop ends without reading again: a batch cut since is in
              // the library's ready index, which lists the log again (a read here would cost every slot log a
              // command for what is rarely there).
              if (this.#held.size === 0 && ((this.#committedAny && this.#held.readAll) || (await this.#held.readNew()) === 0)) break;
            } else {
              if (this.#held.size === 0) {
                // Nothing in hand: take what is open now (group commit). Waiting for maxDelayMs would only add
                // to every change's latency; while this loop commits, the next batch grows on its own.
                lastCut = Date.now();
                await this.#cut(0);
              }
              // Blocks until new descriptors come (at once when the cut above made one), or until the next
              // offer to `cut` is due.
              const block = Math.min(options.blockMs, Math.max(1, lastCut + cutEvery - Date.now()));
              if (!this.#held.full) await this.#held.readNew(block);
              else await sleep(block, signal);
            }
          }
          // A loop until idle is started by `ready`, which cut what was due (cluster-partitions.ts). A loop with
          // nothing in hand cuts at its next round (above), so only a busy one offers by time.
          if (this.#ctx.untilIdle !== true && this.#held.size > 0 && Date.now() - lastCut >= cutEvery) {
            lastCut = Date.now();
            await this.#cut(options.config.batch.maxDelayMs);
          }
          this.#failures.succeeded(`writer ${this.#ctx.writer.name}`);
          backoff.reset();
        } catch (error) {
          if (error instanceof StoppedError || signal.aborted) break;
          resync = true;
          options.metrics?.retried(this.#ctx.writer.name, failureKind(error));
          this.#failures.failed(error, `writer ${this.#ctx.writer.name}`);
          await sleep(backoff.next(), signal);
        }
      }
    } finally {
      // The last group's `committed` calls finish before the connection closes (else the next run repeats them).
      await this.#marking;
      this.#held.stopHeartbeat();
      // A read ahead may still be in flight on the reader connection; let it end before the connection closes.
      await this.#readAhead.settle();
    }
    return this.#committedAny;
  }

  /** Offers the open records to the library's `cut`: it cuts them when the oldest waited `delayMs`. */
  async #cut(delayMs: number): Promise<void> {
    const { client, options } = this.#ctx;
    await client.callFunction(options.config.name, LibraryFunction.cut, [this.#keys.changes], [String(delayMs)]);
  }

  /** Waits for the `committed` calls under way; throws StoppedError when shutdown stopped their retry. */
  async #marked(): Promise<void> {
    await this.#marking;
    if (this.#markingStopped !== undefined) throw this.#markingStopped;
  }

  /** Writes held batches in order while the next one follows the committed cursor. */
  async #processReady(): Promise<RoundEnd> {
    if (this.#held.size === 0) return 'idle';
    const { client, signal } = this.#ctx;
    // The cursor read below must include the last group's `committed`, or its batches would look unwritten.
    await this.#marked();
    const meta = await client.hashGetAll(this.#keys.meta);
    let committed = meta[MetaField.committed] ?? '0-0';
    const ordered = this.#held.ordered();
    let more = false;
    for (const [index, descriptor] of ordered.entries()) {
      if (signal.aborted) return 'idle';
      if (!this.#held.has(descriptor.id)) continue;
      if (compareStreamIds(descriptor.to, committed) <= 0) {
        // Written by an earlier attempt that died before `committed`: finishing is idempotent.
        await this.#marked();
        await this.#retry.run(descriptor.id, () => this.#groupCommit.markCommitted(descriptor, 0));
        this.#held.release(descriptor.id);
        this.#committedAny = true;
        continue;
      }
      if (compareStreamIds(descriptor.from, committed) > 0) {
        // An earlier batch is still pending (with another worker, or idle until reclaimed): keep order.
        if (this.#waitingOn !== descriptor.id) {
          this.#log.debug({ descriptorId: descriptor.id, from: descriptor.from, committed }, 'waiting for an earlier batch');
          this.#waitingPollMs = WAITING_POLL_MS;
        }
        this.#waitingOn = descriptor.id;
        return 'waiting';
      }
      const group = this.#readAhead.groupAt(ordered, index, this.#held);
      // Refused (a redeploy changed the writer's capture): nothing of it is written, it stays pending.
      if (!(await this.#sameCapture(group))) return 'idle';
      if (group.descriptors.at(-1)!.id === ordered.at(-1)!.id && !this.#held.full && this.#ctx.untilIdle !== true) {
        // The last one held: read the descriptors that follow now (without blocking), so the next group's
        // records can be read while this one is written. (A loop until idle reads them when it is idle: a slot
        // log rarely has a next batch, and the read would cost every log a round trip.)
        more = (await this.#held.readNew()) > 0;
      }
      const replicas = this.#replicas;
      if (replicas !== null) await this.#retry.run(group.descriptors[0]!.id, () => replicas.confirm());
      const records = this.#readAhead.take(group);
      this.#readAhead.follow(group, this.#held);
      const outcome = await this.#groupCommit.commit(group, records, () => this.#marked());
      const lost = 'lost' in outcome ? outcome.lost : null;
      // Lost to another worker: the cursor moves when that worker commits; read it again next round. The
      // group's other batches are still ours. Committed: its `committed` calls go on while the next group is
      // written (its descriptors are let go now: only those calls still concern them).
      for (const descriptor of group.descriptors) if (lost === null || lost.includes(descriptor.id)) this.#held.release(descriptor.id);
      if (!('lost' in outcome)) {
        this.#marking = outcome.marks.catch((error: unknown) => {
          this.#markingStopped = error;
        });
      }
      if (lost !== null) {
        // The worker that took it commits it soon: look at the cursor again shortly.
        this.#waitingPollMs = WAITING_POLL_MS;
        return 'waiting';
      }
      committed = group.to;
      this.#committedAny = true;
    }
    return more ? 'more' : 'idle';
  }

  /**
   * Whether the group may be written with this worker's config: its batches carry this worker's stamp (or none:
   * an earlier library's), or the deployed config still matches (a backlog cut under an earlier deployment,
   * written as it always was). Otherwise the writer is stopped (configMismatch aborts the signal) and false.
   */
  async #sameCapture(group: BatchGroup): Promise<boolean> {
    const check = this.#ctx.options.deployedCapture;
    if (check === undefined || group.descriptors.every((d) => d.stamp === undefined || d.stamp === this.#stamp)) return true;
    const problems = await check.problemsOf(this.#ctx.writer.name);
    if (problems.length === 0) return true;
    this.#ctx.configMismatch(problems);
    return false;
  }

  /** The part of the group after `after`; records of held batches are immutable until they are committed. */
  #readPart(group: BatchGroup, after: string, client: StreamClient): Promise<RecordPart> {
    if (after === group.from) {
      for (const descriptor of group.descriptors) {
        if (descriptor.stream !== this.#keys.changes) this.#log.warn({ descriptorId: descriptor.id, stream: descriptor.stream }, `descriptor names another stream; reading ${this.#keys.changes}`);
      }
    }
    return this.#reader.readPart(client, group, after);
  }
}
