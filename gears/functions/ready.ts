import { writerOfCaptureStream } from '../../src/shared/keys.js';
import { LibraryFunction, MetaField } from '../../src/shared/protocol.js';
import { compareStreamIds } from '../../src/shared/stream-id.js';
import type { OpenRecordCounts } from '../batching/open-records.js';
import { isSlotElsewhere } from '../cluster-mode.js';
import { replyArray, replyOptionalString } from '../replies.js';
import type { WriterContexts } from '../writer-context.js';
import { cutWhenDue } from './cut.js';
import { expectArgumentCount, functionError, nonNegativeIntegerArgument } from './function-arguments.js';

/**
 * TFCALL <lib>.ready 0 <writer> <maxDelayMs>
 *
 * The ready index of this node (docs/scale-out.md, how the worker finds work): on a cluster a writer has a
 * capture log per slot, and the worker asks each primary which of its logs have work instead of polling
 * thousands of streams. First cuts every log of the writer this instance counts open records of whose oldest
 * waited maxDelayMs (as `cut` would, so time-based cuts need no call per log), then replies the logs with a
 * batch this instance cut and that is not committed yet, checked against each one's meta (HMGET cut committed).
 *
 * The index is memory: a log whose batches an earlier instance cut (before a restart, a redeploy, a failover)
 * or that arrived by a slot migration is not in it until this instance counts one of its records; the worker
 * finds those by its sweep. A log whose slot left the node is dropped from it (its cut meets MOVED/ASK).
 *
 * - keys: none (each node answers for its own logs)
 * - args: writer name, maxDelayMs (non-negative integer)
 * - reply: array of capture stream names
 * - errors: "ERR ready: ..." for a wrong argument count, an unknown writer, or a malformed maxDelayMs
 */
export function registerReadyFunction(writerNames: readonly string[], writers: WriterContexts, counts: OpenRecordCounts): void {
  const known = new Set(writerNames);
  redis.registerFunction(LibraryFunction.ready, (client, ...args) => {
    const fn = LibraryFunction.ready;
    expectArgumentCount(fn, args, ['writer', 'maxDelayMs']);
    const [writer, maxDelay] = args as [string, string];
    if (!known.has(writer)) throw functionError(fn, `'${writer}' is not a configured writer (${writerNames.join(', ')})`);
    const maxDelayMs = nonNegativeIntegerArgument(fn, 'maxDelayMs', maxDelay);
    const ofWriter = (stream: string) => writerOfCaptureStream(stream) === writer;
    for (const stream of [...counts.withOpenRecords()].filter(ofWriter)) {
      try {
        cutWhenDue(client, writers.get(stream)!, counts, maxDelayMs);
      } catch (error) {
        if (!isSlotElsewhere(error)) throw error;
        counts.forget(stream);
      }
    }
    // Checked against meta (one HMGET each, only for logs with batches in flight): committed by whichever
    // instance, or moved away with its slot, a log leaves the index.
    return [...counts.uncommitted()].filter(ofWriter).filter((stream) => {
      try {
        const [cut, committed] = replyArray(client.call('HMGET', writers.get(stream)!.keys.meta, MetaField.cut, MetaField.committed), 'HMGET')
          .map((value) => replyOptionalString(value, 'HMGET'));
        if (cut != null && (committed == null || compareStreamIds(committed, cut) < 0)) return true;
      } catch (error) {
        if (!isSlotElsewhere(error)) throw error;
      }
      counts.forget(stream);
      return false;
    });
  }, {
    description: "cuts this node's due capture logs of a writer and lists those with batches to commit",
  });
}
