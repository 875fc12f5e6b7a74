/**
 * The work of one writer inside a Worker: read batch descriptors with the `workers` group, and write the
 * batches strictly in stream order, so the changes of one key reach MySQL in the order they were made.
 *
 * Per group of consecutive batches (one batch, or several when a backlog waits; see batch-group.ts): XRANGE
 * the capture records (from, to] in parts of about groupBytes (record-reader.ts) and write each part in one
 * MySQL transaction, in order; just before its COMMIT, confirm the descriptors are still ours and record the
 * dead letters (and their `failed` acks); after it, write the `done` acks; after the last part, call the
 * library's `committed` (cursor, trim, XACK+XDEL) for each batch, in order. While a group is written, the
 * next group's first part is read (and parsed) on a second connection; it cannot change before that group
 * commits, and the groups still commit one after another. A kill at any point
 * leaves the descriptors pending, and the replay is harmless:
 * - before COMMIT: the transaction rolls back; the replay writes the batch (dead letters may repeat);
 * - after COMMIT, before `committed`: the replay writes the same row images again in the same order (or, with
 *   the exactly-once table, skips them); acks already written are not repeated with exactly-once.
 *
 * @internal
 */
import { compareStreamIds, streamIdMs } from '../shared/stream-id.js';
import { ACK_TTL_SECONDS, WORKER_GROUP, ackStreamKey, type StreamKeys } from '../shared/keys.js';
import { AckField, AckStatus, DeadLetterField, LibraryFunction, MetaField, RecordField } from '../shared/protocol.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import type { WriterConfig } from '../shared/config.js';
import { Backoff, sleep } from './backoff.js';
import type { BatchDescriptor } from './batch-descriptor.js';
import { BatchClaims } from './batch-claims.js';
import { groupBatches, sameGroup, type BatchGroup } from './batch-group.js';
import type { BatchWriteResult, WriteBatch, WriteOutcome } from './batch-writer.js';
import type { CaptureRecord } from './capture-record.js';
import { RecordReader, type RecordPart } from './record-reader.js';
import type { Unparsable } from './redis/capture-page.js';
import { FailureReporter, failureKind } from './failure-reporter.js';
import type { AckMessage, StreamClient, StreamFields } from './redis/stream-client.js';
import { entryText, type StreamEntry } from './redis/stream-entry.js';
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
  /** Background failures, reported once per state change. */
  readonly report: (error: unknown) => void;
}

/**
 * How often a loop whose next batch waits for an earlier one (held by another worker) looks at the commit
 * cursor again, for the first second of the wait. Blocking in XREADGROUP instead would notice the commit only
 * when new descriptors arrive or the block times out, and one writer's batches move from worker to worker at
 * every commit. A longer wait (the other worker died, its batch waits to be reclaimed) polls every blockMs.
 */
const WAITING_POLL_MS = 10;
const QUICK_POLLING_MS = 1000;

/** How a round of #processReady ended. */
type RoundEnd =
  /** It read the descriptors that follow: process them at once. */
  | 'more'
  /** Nothing held is ready: wait for new descriptors. */
  | 'idle'
  /** The next batch waits for an earlier one another worker holds: look at the cursor again soon. */
  | 'waiting';

/** The veto of a group's commit: another consumer reclaimed these descriptors of it. */
interface LostBatch {
  readonly lost: readonly string[];
}

/** Ends the loop when shutdown interrupts a retry: the batch stays pending in Redis. */
class StoppedError extends Error {}

/** The next group's first part, being read while the current group is written (only reads: nothing to undo). */
interface Prefetch {
  readonly group: BatchGroup;
  readonly records: Promise<RecordPart>;
}

interface DeadLetter {
  readonly entry: StreamEntry;
  readonly reason: string;
  readonly error: Record<string, unknown>;
  /** Records whose acks report the failure. */
  readonly acks: readonly { key: string; uuid: string }[];
}

export class WriterLoop {
  readonly #ctx: WriterLoopContext;
  readonly #keys: StreamKeys;
  readonly #log: Logger;
  readonly #failures: FailureReporter;
  /** Descriptors this consumer holds (pending for it). */
  readonly #held: BatchClaims;
  #waitingOn: string | undefined;
  #waitingSince = 0;
  #prefetch: Prefetch | undefined;
  readonly #reader: RecordReader;

  constructor(ctx: WriterLoopContext) {
    this.#ctx = ctx;
    this.#keys = ctx.keys;
    this.#reader = new RecordReader(this.#keys.changes, { pageSize: ctx.options.rangePageSize, partBytes: ctx.options.groupBytes });
    this.#log = ctx.options.log.child({ writer: ctx.writer.name });
    this.#failures = new FailureReporter(this.#log, ctx.report);
    this.#held = new BatchClaims(ctx.client, this.#keys, ctx.options, this.#log);
  }

  /** Runs until the signal aborts; never rejects (failures are retried and reported). */
  async run(): Promise<void> {
    const { client, signal, options } = this.#ctx;
    const { changes } = this.#keys;
    const backoff = new Backoff(options.retryInitialDelayMs, options.retryMaxDelayMs);
    this.#held.startHeartbeat();
    let resync = true;
    let lastCut = 0;
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
            await sleep(Date.now() - this.#waitingSince < QUICK_POLLING_MS ? WAITING_POLL_MS : options.blockMs, signal);
          } else if (end === 'idle') {
            this.#reader.idle();
            if (!this.#held.full) await this.#held.readNew(options.blockMs);
            else await sleep(options.blockMs, signal);
          }
          if (Date.now() - lastCut >= options.config.batch.maxDelayMs) {
            lastCut = Date.now();
            await client.callFunction(options.config.name, LibraryFunction.cut, [changes], [String(options.config.batch.maxDelayMs)]);
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
      this.#held.stopHeartbeat();
      // A read ahead may still be in flight on the reader connection; let it end before the connection closes.
      await this.#prefetch?.records.catch(() => undefined);
      this.#prefetch = undefined;
    }
  }

  /** Writes held batches in order while the next one follows the committed cursor. */
  async #processReady(): Promise<RoundEnd> {
    if (this.#held.size === 0) return 'idle';
    const { client, signal } = this.#ctx;
    const meta = await client.hashGetAll(this.#keys.meta);
    let committed = meta[MetaField.committed] ?? '0-0';
    const ordered = this.#held.ordered();
    let more = false;
    for (const [index, descriptor] of ordered.entries()) {
      if (signal.aborted) return 'idle';
      if (!this.#held.has(descriptor.id)) continue;
      if (compareStreamIds(descriptor.to, committed) <= 0) {
        // Written by an earlier attempt that died before `committed`: finishing is idempotent.
        await this.#retrying(descriptor.id, () => this.#markCommitted(descriptor, 0));
        this.#held.release(descriptor.id);
        continue;
      }
      if (compareStreamIds(descriptor.from, committed) > 0) {
        // An earlier batch is still pending (with another worker, or idle until reclaimed): keep order.
        if (this.#waitingOn !== descriptor.id) {
          this.#log.debug({ descriptorId: descriptor.id, from: descriptor.from, committed }, 'waiting for an earlier batch');
          this.#waitingSince = Date.now();
        }
        this.#waitingOn = descriptor.id;
        return 'waiting';
      }
      const group = this.#groupAt(ordered, index);
      if (group.descriptors.at(-1)!.id === ordered.at(-1)!.id && !this.#held.full) {
        // The last one held: read the descriptors that follow now (without blocking), so the next group's
        // records can be read while this one is written.
        more = (await this.#held.readNew()) > 0;
      }
      const records = this.#takeRecords(group);
      this.#readAhead(group);
      const lost = await this.#processGroup(group, records);
      // Lost to another worker: the cursor moves when that worker commits; read it again next round. The
      // group's other batches are still ours.
      for (const descriptor of group.descriptors) if (lost === null || lost.includes(descriptor.id)) this.#held.release(descriptor.id);
      if (lost !== null) {
        // The worker that took it commits it soon: look at the cursor again shortly.
        this.#waitingSince = Date.now();
        return 'waiting';
      }
      committed = group.to;
    }
    return more ? 'more' : 'idle';
  }

  /** The group that starts at `ordered[index]`: the one already being read ahead, if it starts there. */
  #groupAt(ordered: readonly BatchDescriptor[], index: number): BatchGroup {
    const ahead = this.#prefetch?.group;
    if (ahead !== undefined && ahead.descriptors[0]!.id === ordered[index]!.id && ahead.descriptors.every((d) => this.#held.has(d.id))) return ahead;
    return groupBatches(ordered.slice(index).filter((d) => this.#held.has(d.id)), 0, this.#ctx.options.groupRecords);
  }

  /** Starts reading the records of the group that follows `current`, if this loop holds its first batch. */
  #readAhead(current: BatchGroup): void {
    const last = current.descriptors.at(-1)!;
    const following = this.#held.ordered().filter((held) => compareStreamIds(held.id, last.id) > 0);
    // Only the batch that continues this group; any other would wait for an earlier batch anyway.
    if (following[0]?.from !== current.to) return;
    const next = groupBatches(following, 0, this.#ctx.options.groupRecords);
    if (this.#prefetch !== undefined && sameGroup(this.#prefetch.group, next)) return;
    const records = this.#readPart(next, next.from, this.#ctx.reader);
    // Its failure is seen (and retried) by the group's own write; until then it must not count as unhandled.
    records.catch(() => undefined);
    this.#prefetch = { group: next, records };
  }

  /**
   * Writes and commits one group: null once committed, or the ids of its batches another worker reclaimed
   * first. `ahead`: its first part, already being read; a retry reads it again. A group larger than
   * groupBytes is written in parts, one transaction each, in order; the batches are marked `committed` only
   * after the last part. A replay (a kill or a reclaim between parts) writes the committed parts again, as
   * any replay after a COMMIT does (or skips them, with exactly-once).
   */
  async #processGroup(group: BatchGroup, ahead: Promise<RecordPart>): Promise<readonly string[] | null> {
    const started = performance.now();
    let first: Promise<RecordPart> | undefined = ahead;
    let after = group.from;
    let rows = 0;
    let records = 0;
    let entries = 0;
    for (;;) {
      const from = after;
      const written = await this.#retrying(group.label, () => {
        const part = first ?? this.#readPart(group, from, this.#ctx.client);
        first = undefined;
        return this.#write(group, part);
      });
      const { result, part } = written;
      if (result.veto !== undefined) {
        this.#log.info({ descriptorIds: result.veto.lost }, 'batch reclaimed by another worker; rolled back and left to it');
        return result.veto.lost;
      }
      await this.#retrying(group.label, () => this.#acknowledgeDone(part.records, result));
      rows += result.rows;
      records += part.records.length;
      entries += part.entries;
      if (part.last) break;
      after = part.to;
    }
    if (group.count > 0 && entries !== group.count) {
      this.#log.warn({ descriptorId: group.label, expected: group.count, found: entries }, 'a batch holds a different number of capture records than its descriptor counts (entries lost or added behind the library, e.g. a Redis restart without persistence)');
    }
    // Sent together (one connection answers in order): each call moves the library's cursor to its batch's
    // end; calling it again for a batch already marked is harmless, so a retry repeats them all. The rows
    // are counted once.
    await this.#retrying(group.label, () => Promise.all(group.descriptors.map((descriptor, i) => this.#markCommitted(descriptor, i === group.descriptors.length - 1 ? rows : 0))));
    const lagSeconds = (Date.now() - streamIdMs(group.to)) / 1000;
    this.#ctx.options.metrics?.batchesCommitted(this.#ctx.writer.name, group.descriptors.length, records, rows, (performance.now() - started) / 1000, lagSeconds);
    return null;
  }

  /** Runs `step` until it succeeds, backing off on failures; shutdown interrupts only the waiting. */
  async #retrying<T>(label: string, step: () => Promise<T>): Promise<T> {
    const { options, signal } = this.#ctx;
    const backoff = new Backoff(options.retryInitialDelayMs, options.retryMaxDelayMs);
    const what = `batch ${label} of writer ${this.#ctx.writer.name}`;
    for (;;) {
      try {
        const value = await step();
        this.#failures.succeeded(what);
        return value;
      } catch (error) {
        const kind = failureKind(error);
        options.metrics?.retried(this.#ctx.writer.name, kind);
        const first = !this.#failures.failing;
        this.#failures.failed(error, what);
        if (first) await this.#noteError(`write: ${errorMessage(error)}`);
        if (!(await sleep(backoff.next(), signal))) throw new StoppedError();
      }
    }
  }

  /** The group's first part: read ahead while the previous group was written, else started now. */
  #takeRecords(group: BatchGroup): Promise<RecordPart> {
    const prefetch = this.#prefetch;
    this.#prefetch = undefined;
    if (prefetch !== undefined && sameGroup(prefetch.group, group)) return prefetch.records;
    const records = this.#readPart(group, group.from, this.#ctx.client);
    records.catch(() => undefined); // awaited by the group's write, which retries on failure
    return records;
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

  async #write(group: BatchGroup, read: Promise<RecordPart>): Promise<{ result: WriteOutcome<LostBatch>; part: RecordPart }> {
    const { client, options } = this.#ctx;
    const part = await read;
    const { records, unparsable } = part;
    const batch: WriteBatch = { writer: this.#ctx.writer.name, stream: this.#keys.changes, descriptorId: group.label, from: part.from, to: part.to, records };
    const first = group.descriptors[0]!.id;
    const last = group.descriptors.at(-1)!.id;
    const result = await options.batchWriter.write<LostBatch>(batch, {
      beforeCommit: async (pending) => {
        const owners = new Set(await client.pendingOf(this.#keys.batches, WORKER_GROUP, options.consumer, group.descriptors.length, first, last));
        const lost = group.descriptors.filter((d) => !owners.has(d.id)).map((d) => d.id);
        // Reclaimed by another consumer: roll back and let them go (an expected outcome, not a failure).
        if (lost.length > 0) return { veto: { lost } };
        await this.#deadLetter(group, pending.replayed ? [] : unparsable, pending);
        return undefined;
      },
    });
    return { result, part };
  }

  /** Dead letters of one group, with their `failed` acks and the meta counters, before the group commits. */
  async #deadLetter(group: BatchGroup, unparsable: readonly Unparsable[], result: BatchWriteResult): Promise<void> {
    const letters: DeadLetter[] = [];
    for (const { entry, reason } of unparsable) {
      const key = entryText(entry, RecordField.key);
      const uuid = entryText(entry, RecordField.ack);
      letters.push({ entry, reason, error: { code: 'MALFORMED_RECORD', message: reason }, acks: key !== undefined && uuid !== undefined ? [{ key, uuid }] : [] });
    }
    for (const { record, superseded, error } of result.rejected) {
      const acks = [...superseded, record].flatMap((r) => (r.ack === undefined ? [] : [{ key: r.key, uuid: r.ack }]));
      letters.push({ entry: record.entry, reason: error.message, error: error.toJSON(), acks });
    }
    if (letters.length === 0) return;
    letters.sort((a, b) => compareStreamIds(a.entry.id, b.entry.id));
    const { client, options } = this.#ctx;
    const at = String(Date.now());
    for (const letter of letters) {
      const fields: StreamFields = [
        [DeadLetterField.writer, this.#ctx.writer.name],
        [DeadLetterField.stage, 'write'],
        [DeadLetterField.reason, letter.reason],
        [DeadLetterField.error, JSON.stringify(letter.error)],
        [DeadLetterField.sourceId, letter.entry.id],
        [DeadLetterField.at, at],
        ...letter.entry.fields,
      ];
      await client.append(this.#keys.deadLetters, fields, options.config.deadLetterMaxLen);
    }
    await client.hashIncrement(this.#keys.meta, MetaField.deadLettered, letters.length);
    await client.hashSet(this.#keys.meta, { [MetaField.lastError]: `write: ${letters.at(-1)!.reason}`, [MetaField.lastErrorAt]: at });
    const acks: AckMessage[] = letters.flatMap((letter) =>
      letter.acks.map(({ key, uuid }) => ({ stream: ackStreamKey(key, uuid), fields: [[AckField.status, AckStatus.failed], [AckField.error, letter.reason]] as const })),
    );
    await client.acknowledge(acks, ACK_TTL_SECONDS);
    options.metrics?.deadLettered(this.#ctx.writer.name, letters.length);
    this.#log.warn({ descriptorId: group.label, deadLettered: letters.length, firstReason: letters[0]!.reason }, `dead-lettered ${letters.length} record(s) of a batch; the rest commits`);
  }

  /** `done` acks for every record that reached MySQL (or had, before a replay). */
  async #acknowledgeDone(records: readonly CaptureRecord[], result: BatchWriteResult): Promise<void> {
    const failed = new Set(result.rejected.flatMap((r) => [r.record, ...r.superseded]));
    const earlier = new Set(result.alreadyWritten);
    const due = records.filter((r) => r.ack !== undefined && !failed.has(r));
    // A replay skipped by the exactly-once cursor may find its acks written already; don't repeat them.
    const replayed = due.filter((r) => earlier.has(r));
    const present = await this.#ctx.client.exists(replayed.map((r) => ackStreamKey(r.key, r.ack!)));
    const skip = new Set(replayed.filter((_, i) => present[i]));
    const acks: AckMessage[] = due.filter((r) => !skip.has(r)).map((r) => ({ stream: ackStreamKey(r.key, r.ack!), fields: [[AckField.status, AckStatus.done]] }));
    await this.#ctx.client.acknowledge(acks, ACK_TTL_SECONDS);
  }

  async #markCommitted(descriptor: BatchDescriptor, rows: number): Promise<void> {
    const { client, options } = this.#ctx;
    await client.callFunction(options.config.name, LibraryFunction.committed, [this.#keys.changes, this.#keys.batches], [descriptor.id, descriptor.to, String(rows)]);
  }

  async #noteError(message: string): Promise<void> {
    try {
      await this.#ctx.client.hashSet(this.#keys.meta, { [MetaField.lastError]: message.slice(0, 500), [MetaField.lastErrorAt]: String(Date.now()) });
    } catch {
      // Redis itself may be what failed; the log has the error.
    }
  }
}
