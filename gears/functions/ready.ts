import { writerOfCaptureStream } from '../../src/shared/keys.js';
import { LibraryFunction, MetaField } from '../../src/shared/protocol.js';
import { compareStreamIds, streamIdMs } from '../../src/shared/stream-id.js';
import type { OpenRecordCounts } from '../batching/open-records.js';
import { isSlotElsewhere } from '../cluster-mode.js';
import { serverTimeMs } from '../redis-time.js';
import { replyArray, replyOptionalString } from '../replies.js';
import type { WriterContexts } from '../writer-context.js';
import { cutWhenDue } from './cut.js';
import { expectArgumentCount, functionError, nonNegativeIntegerArgument } from './function-arguments.js';

/**
 * TFCALL <lib>.ready 0 <writer> <maxDelayMs> <limit>
 *
 * The ready index of this node (docs/scale-out.md, how the worker finds work): on a cluster a writer has a
 * capture log per slot, and the worker asks each primary which of its logs have work instead of polling
 * thousands of streams. First cuts the logs of the writer this instance counts open records of whose oldest
 * waited maxDelayMs (as `cut` would, so time-based cuts need no call per log; the worker passes 0, every open
 * log, when it has none of this node's logs in hand: group commit), then lists the logs with a batch
 * this instance cut and that is not committed yet: those it just cut as they are, the others checked against
 * their meta (HMGET cut committed).
 *
 * In chunks: a call cuts at most `limit` logs and checks at most `limit` others, so under a backlog of thousands
 * of logs no call holds the lock for long (it blocks every client of the shard meanwhile, and would pass
 * lock-redis-timeout) and the first batches are listed at once. The next call goes on where this one stopped:
 * logs not cut yet are still due, and a pass lists each log with batches in flight once (the logs just cut
 * need no check); `more` says the cuts or the pass are not done.
 *
 * The index is memory: a log whose batches an earlier instance cut (before a restart, a redeploy, a failover)
 * or that arrived by a slot migration is not in it until this instance takes its count over (the stream
 * trigger's first read of the log, which also reads meta `committed`: open-records.ts), or the worker's sweep
 * names it to `adopt` (adopt.ts). A log whose slot left the node is dropped from it (a read meets MOVED/ASK).
 *
 * - keys: none (each node answers for its own logs)
 * - args: writer name, maxDelayMs (non-negative integer), limit (positive integer)
 * - reply: [more, [capture stream, ...]]: more is 1 when due logs were left uncut or logs with batches unlisted
 *   (call again), else 0
 * - errors: "ERR ready: ..." for a wrong argument count, an unknown writer, or a malformed maxDelayMs or limit
 */
export function registerReadyFunction(writerNames: readonly string[], writers: WriterContexts, counts: OpenRecordCounts): void {
  const known = new Set(writerNames);
  /** Per writer, the logs listed (or cut) since its current pass over the logs with batches in flight began. */
  const passes = new Map<string, Set<string>>();
  redis.registerFunction(LibraryFunction.ready, (client, ...args) => {
    const fn = LibraryFunction.ready;
    expectArgumentCount(fn, args, ['writer', 'maxDelayMs', 'limit']);
    const [writer, maxDelay, limitArg] = args as [string, string, string];
    if (!known.has(writer)) throw functionError(fn, `'${writer}' is not a configured writer (${writerNames.join(', ')})`);
    const maxDelayMs = nonNegativeIntegerArgument(fn, 'maxDelayMs', maxDelay);
    const limit = nonNegativeIntegerArgument(fn, 'limit', limitArg);
    if (limit === 0) throw functionError(fn, 'limit must be at least 1');
    const ofWriter = (stream: string) => writerOfCaptureStream(stream) === writer;
    const now = serverTimeMs(client);

    // Due by the count in memory (no Redis call for a log that is not): cutWhenDue checks it against meta.
    const due = [...counts.withOpenRecords()].filter((stream) => {
      const firstOpen = ofWriter(stream) ? counts.current(writers.get(stream)!)?.firstOpen : null;
      return firstOpen != null && now - streamIdMs(firstOpen) >= maxDelayMs;
    });
    const cut: string[] = [];
    for (const stream of due.slice(0, limit)) {
      try {
        if (cutWhenDue(client, writers.get(stream)!, counts, maxDelayMs, now) !== null) cut.push(stream);
      } catch (error) {
        if (!isSlotElsewhere(error)) throw error;
        counts.forget(stream);
      }
    }

    // The others with batches in flight not listed yet in this pass, each checked against meta: committed by
    // whichever instance, or moved away with its slot, a log leaves the index. The pass ends when every one was
    // listed (then `more` is 0, so a worker asks again only after its poll interval).
    let pass = passes.get(writer);
    if (pass === undefined) passes.set(writer, (pass = new Set()));
    for (const stream of cut) pass.add(stream);
    const unlisted = [...counts.uncommitted()].filter((stream) => ofWriter(stream) && !pass.has(stream));
    const listed = unlisted.slice(0, limit).filter((stream) => {
      pass.add(stream);
      try {
        const [cutAt, committed] = replyArray(client.call('HMGET', writers.get(stream)!.keys.meta, MetaField.cut, MetaField.committed), 'HMGET')
          .map((value) => replyOptionalString(value, 'HMGET'));
        if (cutAt != null && (committed == null || compareStreamIds(committed, cutAt) < 0)) return true;
      } catch (error) {
        if (!isSlotElsewhere(error)) throw error;
      }
      counts.forget(stream);
      return false;
    });
    const passDone = unlisted.length <= limit;
    if (passDone) pass.clear();
    return [due.length > limit || !passDone ? 1 : 0, [...cut, ...listed]];
  }, {
    description: "cuts this node's due capture logs of a writer and lists those with batches to commit, a chunk at a time",
  });
}
