import { LibraryFunction, RECAPTURE_MAX_KEYS } from '../../src/shared/protocol.js';
import { divergenceHolds } from '../capture/divergence.js';
import { readHashState } from '../capture/hash-state.js';
import { replyString } from '../replies.js';
import type { WriterContexts } from '../writer-context.js';
import { functionError, writerOfStream } from './function-arguments.js';

/**
 * TFCALL <lib>.forget_divergent <1 + n> <capture stream> <hash key>...
 *
 * Removes the divergence record (`+`/`-`, src/shared/divergence-record.ts) of each given key whose record no
 * longer holds: a `-` key that exists again, a `+` key whose mapped fields changed since (or that is gone).
 * Judged here, on the key's state and record at one instant, so a `+`/`-` write that lands between verify's
 * read and this call (a fresh record that holds) is never removed. verify --repair calls it for the records it
 * found stale.
 *
 * - keys: the capture stream the keys' records sit by (each key's own log, as for `backfill`), then up to 1000
 *   keys under the writer's prefix
 * - reply: the number of records removed
 * - errors: "ERR forget_divergent: ..." as `backfill`'s
 */
export function registerForgetDivergentFunction(writers: WriterContexts): void {
  const fn = LibraryFunction.forgetDivergent;
  redis.registerFunction(fn, (client, ...args) => {
    const [stream, ...keys] = args;
    if (stream === undefined) throw functionError(fn, 'expected the capture stream and at least one key');
    const writer = writerOfStream(fn, writers, stream);
    if (keys.length === 0) throw functionError(fn, 'expected at least one key after the capture stream');
    if (keys.length > RECAPTURE_MAX_KEYS) throw functionError(fn, `at most ${RECAPTURE_MAX_KEYS} keys per call, got ${keys.length}`);
    let removed = 0;
    for (const key of keys) {
      const record = client.call('HGET', writer.keys.divergent, key);
      if (record === null) continue;
      if (divergenceHolds(replyString(record, 'HGET'), readHashState(client, key, writer.mappedFields))) continue;
      client.call('HDEL', writer.keys.divergent, key);
      removed += 1;
    }
    return removed;
  }, {
    description: 'removes the divergence records (# + / -) of the given keys that no longer hold (verify --repair)',
  });
}
