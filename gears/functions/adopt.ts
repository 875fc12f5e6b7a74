import { writerOfCaptureStream } from '../../src/shared/keys.js';
import { LibraryFunction } from '../../src/shared/protocol.js';
import { streamIdMs } from '../../src/shared/stream-id.js';
import { cutBatch } from '../batching/cut-batch.js';
import type { OpenRecordCounts } from '../batching/open-records.js';
import { isSlotElsewhere } from '../cluster-mode.js';
import { serverTimeMs } from '../redis-time.js';
import type { WriterContext, WriterContexts } from '../writer-context.js';
import { lastRecordId } from './cut.js';
import { functionError, nonNegativeIntegerArgument } from './function-arguments.js';

/**
 * TFCALL <lib>.adopt 0 <writer> <maxDelayMs> <capture stream> ...
 *
 * Takes logs the worker's sweep found on this node (SCAN) into the ready index (ready.ts, docs/scale-out.md):
 * the index is memory, so a log whose records were counted, or whose batches were cut, by an earlier instance
 * (before a restart, a redeploy, a failover) or that arrived by a slot migration is not in it. Each named log's
 * count is checked against its meta (one HMGET), then:
 * - a count that was stale or unknown is rebuilt from the stream and its open records are cut at once, as
 *   `cut … 0` would (they waited for a node that did not know them); a known count is cut when its oldest open
 *   record waited maxDelayMs (the check just made serves the cut);
 * - a log with a batch cut and not committed joins the index: a rebuilt count reads meta `committed`
 *   (open-records.ts), whether the rebuild is this call's or came earlier (the stream trigger's first read of the
 *   log, e.g. of a log that came with its slot, every record already cut).
 * The worker names a chunk of logs per call, so no call holds the shard's lock for long.
 *
 * - keys: none (each node answers for its own logs)
 * - args: writer name, maxDelayMs (non-negative integer), then capture streams of the writer on this node
 * - reply: array of the named capture streams with batches to commit
 * - errors: "ERR adopt: ..." for too few arguments, an unknown writer, a malformed maxDelayMs, or a stream that
 *   is not a capture stream of the writer
 */
export function registerAdoptFunction(writerNames: readonly string[], writers: WriterContexts, counts: OpenRecordCounts): void {
  const known = new Set(writerNames);
  redis.registerFunction(LibraryFunction.adopt, (client, ...args) => {
    const fn = LibraryFunction.adopt;
    if (args.length < 2) throw functionError(fn, `expected 2 keys and arguments or more (writer, maxDelayMs, capture streams), got ${args.length}`);
    const [writer, maxDelay, ...streams] = args as [string, string, ...string[]];
    if (!known.has(writer)) throw functionError(fn, `'${writer}' is not a configured writer (${writerNames.join(', ')})`);
    const maxDelayMs = nonNegativeIntegerArgument(fn, 'maxDelayMs', maxDelay);
    const contexts = streams.map((stream) => {
      const context = writers.get(stream);
      if (context === undefined || writerOfCaptureStream(stream) !== writer) throw functionError(fn, `'${stream}' is not a capture stream of writer '${writer}'`);
      return context;
    });
    const now = serverTimeMs(client);
    return contexts.filter((context) => {
      try {
        return adopt(client, context, counts, now - maxDelayMs);
      } catch (error) {
        if (!isSlotElsewhere(error)) throw error;
        counts.forget(context.keys.changes);
        return false;
      }
    }).map((context) => context.keys.changes);
  }, {
    description: "takes capture logs found on this node into the ready index, cutting what is due; lists those with batches to commit",
  });
}

/** One log into the index (see above); whether it has a batch to commit. `dueBefore`: records older are due. */
function adopt(client: GearsClient, writer: WriterContext, counts: OpenRecordCounts, dueBefore: number): boolean {
  const known = counts.current(writer);
  const open = counts.checked(client, writer, () => lastRecordId(client, writer));
  if (open.open > 0 && open.last !== null && open.firstOpen !== null && (open !== known || streamIdMs(open.firstOpen) <= dueBefore)) {
    cutBatch(client, writer, counts, { ...open, last: open.last });
    return true;
  }
  // Whether a batch is in flight, the index knows: this instance made the log's last cut, or the count's
  // take-over (just now, or when the stream trigger first read the log) read meta `committed` (open-records.ts).
  return counts.uncommitted().has(writer.keys.changes);
}
