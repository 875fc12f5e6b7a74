/**
 * The group commit of a writer loop: one group of consecutive batches (batch-group.ts) written to MySQL in
 * parts of about groupBytes, one transaction each, in order (a slot log's loop on a cluster shares each of
 * those transactions with other slot logs' parts: shared-transaction.ts). Just before each COMMIT the descriptors are
 * confirmed to be still ours (else the `beforeCommit` veto rolls the part back and names the lost ones) and the
 * dead letters are written; after it, the `done` acks; after the last part, the library's `committed` for each
 * batch, in order (cursor, trim, XACK+XDEL). Every step is retried (step-retry.ts) until it succeeds or the
 * loop stops; a replay of any of them is harmless (see writer-loop.ts).
 *
 * @internal
 */
import { ACK_TTL_SECONDS, WORKER_GROUP, ackStreamKey, type StreamKeys } from '../shared/keys.js';
import { AckField, AckStatus, LibraryFunction } from '../shared/protocol.js';
import type { Logger } from '../shared/log.js';
import { streamIdMs } from '../shared/stream-id.js';
import type { BatchDescriptor } from './batch-descriptor.js';
import type { BatchGroup } from './batch-group.js';
import { writeDeadLetters } from './batch-dead-letters.js';
import type { BatchWriteResult, WriteBatch, WriteOutcome } from './batch-writer.js';
import type { CaptureRecord } from './capture-record.js';
import type { RecordPart } from './record-reader.js';
import type { ReadPart } from './read-ahead.js';
import type { CommittedCalls } from './committed-calls.js';
import type { BatchWrites } from './shared-transaction.js';
import type { AckMessage, StreamClient } from './redis/stream-client.js';
import type { StepRetry } from './step-retry.js';
import type { ResolvedWorkerOptions } from './worker-options.js';

/** The veto of a group's commit: another consumer reclaimed these descriptors of it. */
interface LostBatch {
  readonly lost: readonly string[];
}

/**
 * How a group's commit ended: lost to another consumer (the ids of its batches another worker reclaimed), or
 * committed, its batches' `committed` calls under way (`marks`: the caller writes the next group meanwhile).
 */
export type CommitOutcome = LostBatch | { readonly marks: Promise<void> };

export interface GroupCommitContext {
  readonly writer: string;
  readonly keys: StreamKeys;
  readonly options: ResolvedWorkerOptions;
  /** The loop's own connection. */
  readonly client: StreamClient;
  readonly log: Logger;
  readonly retry: StepRetry;
  readonly readPart: ReadPart;
  /** Where the parts are written: the batch writer, or a transaction shared with other logs (shared-transaction.ts). */
  readonly writes: BatchWrites;
  /** How `committed` is called: on the log's keys, or gathered per shard with other slot logs' (committed-calls.ts). */
  readonly committed?: CommittedCalls;
}

export class GroupCommit {
  readonly #ctx: GroupCommitContext;

  constructor(ctx: GroupCommitContext) {
    this.#ctx = ctx;
  }

  /**
   * Writes and commits one group. `ahead`: its first part, already being read; a retry reads it again. The
   * batches are marked `committed` only after the last part, and only once `previous` (the marks of the group
   * before) succeeded, so the library's cursor moves in order (when that rejects, shutdown stopped those: these
   * are not sent either); the marks are returned under way, not awaited.
   * A replay (a kill or a reclaim between parts, or before the marks) writes the committed parts again, as any
   * replay after a COMMIT does (or skips them, with exactly-once).
   */
  async commit(group: BatchGroup, ahead: Promise<RecordPart>, previous: () => Promise<void>): Promise<CommitOutcome> {
    const { retry, client, log, options, writer } = this.#ctx;
    const started = performance.now();
    let first: Promise<RecordPart> | undefined = ahead;
    let after = group.from;
    let rows = 0;
    let records = 0;
    let entries = 0;
    let transactionMs = 0;
    for (;;) {
      const from = after;
      const { result, part, ms } = await retry.run(group.label, () => {
        const read = first ?? this.#ctx.readPart(group, from, client);
        first = undefined;
        return this.#write(group, read);
      });
      if (result.veto !== undefined) {
        log.info({ descriptorIds: result.veto.lost }, 'batch reclaimed by another worker; rolled back and left to it');
        return result.veto;
      }
      await retry.run(group.label, () => this.#acknowledgeDone(part.records, result));
      rows += result.rows;
      transactionMs += ms;
      records += part.records.length;
      entries += part.entries;
      if (part.last) break;
      after = part.to;
    }
    if (group.count > 0 && entries !== group.count) {
      log.warn({ descriptorId: group.label, expected: group.count, found: entries }, 'a batch holds a different number of capture records than its descriptor counts (entries lost or added behind the library, e.g. a Redis restart without persistence)');
    }
    // Sent together (one connection answers in order): each call moves the library's cursor to its batch's
    // end; calling it again for a batch already marked is harmless, so a retry repeats them all. The rows
    // are counted once.
    const marks = (async () => {
      await previous();
      await retry.run(group.label, () => Promise.all(group.descriptors.map((descriptor, i) => this.markCommitted(descriptor, i === group.descriptors.length - 1 ? rows : 0))));
      const lagSeconds = (Date.now() - streamIdMs(group.to)) / 1000;
      const seconds = (performance.now() - started) / 1000;
      options.metrics?.batchesCommitted(writer, group.descriptors.length, records, rows, seconds, lagSeconds);
      // Where a group's time went, for finding what makes HSET → row latency spike (docs/runtime.md, bench (d)):
      // the MySQL transactions against the rest (reading the records, acks, `committed`).
      log.debug({ batches: group.descriptors.length, records, rows, ms: Math.round(seconds * 1000), transactionMs: Math.round(transactionMs), lagMs: Math.round(lagSeconds * 1000) }, 'group committed');
    })();
    return { marks };
  }

  /** The library's `committed` for one batch: moves the cursor, trims, XACK+XDEL. Idempotent. */
  async markCommitted(descriptor: BatchDescriptor, rows: number): Promise<void> {
    const { client, options, keys, committed } = this.#ctx;
    if (committed !== undefined) return committed.mark(keys, descriptor.id, descriptor.to, rows);
    await client.callFunction(options.config.name, LibraryFunction.committed, [keys.changes, keys.batches], [descriptor.id, descriptor.to, String(rows)]);
  }

  /** Writes one part in one transaction; `ms`: how long the transaction took, from its first statement to COMMIT. */
  async #write(group: BatchGroup, read: Promise<RecordPart>): Promise<{ result: WriteOutcome<LostBatch>; part: RecordPart; ms: number }> {
    const { client, options, keys, writer } = this.#ctx;
    const part = await read;
    const { records, unparsable } = part;
    const batch: WriteBatch = { writer, stream: keys.changes, descriptorId: group.label, from: part.from, to: part.to, records };
    const first = group.descriptors[0]!.id;
    const last = group.descriptors.at(-1)!.id;
    const transactionStarted = performance.now();
    const result = await this.#ctx.writes.write<LostBatch>(batch, {
      beforeCommit: async (pending) => {
        const owners = new Set(await client.pendingOf(keys.batches, WORKER_GROUP, options.consumer, group.descriptors.length, first, last));
        const lost = group.descriptors.filter((d) => !owners.has(d.id)).map((d) => d.id);
        // Reclaimed by another consumer: roll back and let them go (an expected outcome, not a failure).
        if (lost.length > 0) return { veto: { lost } };
        await writeDeadLetters(this.#ctx, group.label, pending.replayed ? [] : unparsable, pending);
        return undefined;
      },
    });
    return { result, part, ms: performance.now() - transactionStarted };
  }

  /** `done` acks for every record that reached MySQL (or had, before a replay). */
  async #acknowledgeDone(records: readonly CaptureRecord[], result: BatchWriteResult): Promise<void> {
    const { client } = this.#ctx;
    const failed = new Set(result.rejected.flatMap((r) => [r.record, ...r.superseded]));
    const earlier = new Set(result.alreadyWritten);
    const due = records.filter((r) => r.ack !== undefined && !failed.has(r));
    // A replay skipped by the exactly-once cursor may find its acks written already; don't repeat them.
    const replayed = due.filter((r) => earlier.has(r));
    const present = await client.exists(replayed.map((r) => ackStreamKey(r.key, r.ack!)));
    const skip = new Set(replayed.filter((_, i) => present[i]));
    const acks: AckMessage[] = due.filter((r) => !skip.has(r)).map((r) => ({ stream: ackStreamKey(r.key, r.ack!), fields: [[AckField.status, AckStatus.done]] }));
    await client.acknowledge(acks, ACK_TTL_SECONDS);
  }
}
