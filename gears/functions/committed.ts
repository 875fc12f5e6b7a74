import { compareStreamIds, nextStreamId } from '../../src/shared/stream-id.js';
import { WORKER_GROUP } from '../../src/shared/keys.js';
import { LibraryFunction, MetaField } from '../../src/shared/protocol.js';
import { replyInteger, replyOptionalString } from '../replies.js';
import type { OpenRecordCounts } from '../batching/open-records.js';
import type { WriterContexts } from '../writer-context.js';
import { isSlotElsewhere } from '../cluster-mode.js';
import { expectArgumentCount, functionError, nonNegativeIntegerArgument, streamIdArgument, writerOfStream } from './function-arguments.js';

/**
 * TFCALL <lib>.committed 2 <capture stream> <batches stream> <descriptor id> <last committed capture id> <rows>
 *
 * Called by the worker after a batch's MySQL transaction committed. Atomically:
 * 1. meta `committed` = max(old, last committed capture id) (ids compared numerically);
 * 2. XTRIM <capture stream> MINID <committed + 1>: every record up to and including it is removed;
 * 3. XACK <batches stream> workers <descriptor id> and XDEL it;
 * 4. meta `committed_rows` += rows, only when the descriptor was still there.
 * Replaying the call (the worker crashed before it saw the reply) changes nothing.
 *
 * - keys: the capture stream `wb:changes:{<w>}`, the batches stream `wb:batches:{<w>}` of the same writer
 * - args: descriptor id, last committed capture id (both "<ms>-<seq>"), rows written (non-negative integer)
 * - reply: the committed capture id now in meta (bulk string)
 * - errors: "ERR committed: ..." for a wrong argument count, streams that are not one writer's capture and
 *   batches streams, or a malformed id or row count
 */
export function registerCommittedFunction(writers: WriterContexts, counts: OpenRecordCounts): void {
  redis.registerFunction(LibraryFunction.committed, (client, ...args) => {
    expectArgumentCount(LibraryFunction.committed, args, BATCH_ARGUMENTS);
    return commit(client, writers, counts, LibraryFunction.committed, args);
  }, {
    description: 'records a committed batch: advances the commit cursor, trims the capture stream, acks the batch',
  });
}

/**
 * TFCALL <lib>.committed_many 0 (<capture stream> <batches stream> <descriptor id> <last committed id> <rows>)...
 *
 * `committed` for many batches of this node's logs in one call (on a cluster the worker commits the batches of
 * many slot logs together; a call each would cost the shard a function call per log). Keyless: each node
 * answers for its own logs, as `ready` does. Each batch is recorded as `committed` records it, in order.
 *
 * - keys: none
 * - args: five per batch, as `committed`'s keys and arguments
 * - reply: per batch, the committed capture id now in meta, or null when the log's slot is not served here
 *   (moved away: the worker calls `committed` on its keys, which follows the redirect)
 * - errors: "ERR committed_many: ..." for an argument count that is not a multiple of five, or one of
 *   `committed`'s errors
 */
export function registerCommittedManyFunction(writers: WriterContexts, counts: OpenRecordCounts): void {
  redis.registerFunction(LibraryFunction.committedMany, (client, ...args) => {
    const fn = LibraryFunction.committedMany;
    if (args.length === 0 || args.length % BATCH_ARGUMENTS.length !== 0) {
      throw functionError(fn, `expected ${BATCH_ARGUMENTS.length} arguments per batch (${BATCH_ARGUMENTS.join(', ')}), got ${args.length}`);
    }
    const replies: (string | null)[] = [];
    for (let at = 0; at < args.length; at += BATCH_ARGUMENTS.length) {
      try {
        replies.push(commit(client, writers, counts, fn, args.slice(at, at + BATCH_ARGUMENTS.length)));
      } catch (error) {
        if (!isSlotElsewhere(error)) throw error;
        replies.push(null);
      }
    }
    return replies;
  }, {
    description: "records committed batches of this node's logs, as committed does for each",
  });
}

const BATCH_ARGUMENTS = ['capture stream', 'batches stream', 'descriptor id', 'last committed id', 'rows'];

function commit(client: GearsClient, writers: WriterContexts, counts: OpenRecordCounts, fn: string, args: string[]): string {
  const [stream, batches, descriptor, lastCommitted, rowsArg] = args as [string, string, string, string, string];
  const writer = writerOfStream(fn, writers, stream);
  if (batches !== writer.keys.batches) throw functionError(fn, `the batches stream of ${stream} is ${writer.keys.batches}, got '${batches}'`);
  const descriptorId = streamIdArgument(fn, 'descriptor id', descriptor);
  const committedId = streamIdArgument(fn, 'last committed id', lastCommitted);
  const rows = nonNegativeIntegerArgument(fn, 'rows', rowsArg);

  const meta = writer.keys.meta;
  const previous = replyOptionalString(client.call('HGET', meta, MetaField.committed), 'HGET');
  const committed = previous !== null && compareStreamIds(previous, committedId) >= 0 ? previous : committedId;
  if (committed !== previous) client.call('HSET', meta, MetaField.committed, committed);
  client.call('XTRIM', stream, 'MINID', nextStreamId(committed));
  client.call('XACK', batches, WORKER_GROUP, descriptorId);
  const removed = replyInteger(client.call('XDEL', batches, descriptorId), 'XDEL');
  if (removed > 0n) client.call('HINCRBY', meta, MetaField.committedRows, String(rows));
  counts.committedThrough(writer, committed);
  return committed;
}
