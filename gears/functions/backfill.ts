import { LibraryFunction, RECAPTURE_MAX_KEYS, zeroCounts, type CountsTotal } from '../../src/shared/protocol.js';
import { appendRecord } from '../capture/capture-change.js';
import { deleteRecord, upsertRecord } from '../capture/capture-record.js';
import { keptApart, readDivergenceRecords } from '../capture/divergence.js';
import { readHashState, type HashState } from '../capture/hash-state.js';
import { replyInteger } from '../replies.js';
import type { WriterContext, WriterContexts } from '../writer-context.js';
import { functionError, writerOfStream } from './function-arguments.js';

/**
 * The event a dead letter of `backfill`/`delete_missing` names (a live capture names the keyspace event, a
 * `recapture` its own name): the operator reading `dlq list` sees which tool met the key.
 */
const BACKFILL_EVENT = LibraryFunction.backfill;

/**
 * TFCALL <lib>.backfill <1 + n> <capture stream> <hash key>...
 *
 * Captures the current image of each hash, exactly as a live capture of a write would (same record, same
 * stream, so same batching, dead letters and exactly-once). The whole page runs in one execution unit: each
 * image is the key's state at one instant, and a live write to the key lands after it in the stream, so an
 * older image can never overwrite a newer one in MySQL. The `#` field of a hash at rest is not acted on (it is
 * not a write): the mapped fields are captured as they are.
 *
 * A hash whose last write was `#` `+` is kept apart from MySQL on purpose: while its divergence record holds
 * it is left alone (counted as `kept`), as verify --repair and `recapture` leave it; a record that no longer
 * holds (the key written since) is removed and the key captured as any other. The records are read in this
 * call (one HMGET of the log's record hash), with the keys' states, so a `+`/`-` write cannot land between.
 *
 * - keys: the capture stream the keys belong to (`wb:changes:{<w>}`, or of a partitioned writer each key's
 *   partition's: the CLI groups a page by partition; on a Redis Cluster each key's slot's log, so a call's keys
 *   are all in that slot, on its shard), then up to 1000 keys under the writer's prefix
 * - reply: JSON text of RecaptureCounts; a key that no longer exists is skipped (its delete was captured live);
 *   a key whose divergence record holds is counted in `kept`
 * - errors: "ERR backfill: ..." for a stream that is no writer's capture stream, no keys, too many keys, or a
 *   key outside the writer's prefix
 */
export function registerBackfillFunction(writers: WriterContexts): void {
  redis.registerFunction(LibraryFunction.backfill, (client, ...args) => JSON.stringify(recapture(client, writers, LibraryFunction.backfill, args, captureImage)), {
    description: 'captures the current image of each given hash into its writer capture stream (backfill, verify --repair)',
  });
}

/**
 * TFCALL <lib>.delete_missing <1 + n> <capture stream> <hash key>...
 *
 * Captures a delete of the row of each key that does not exist now (verify --repair of a row with no hash).
 * A key that exists again is skipped: its own capture carries its image. A key deleted with `#` `-` keeps its
 * row on purpose: while its record holds it is kept, as `backfill` keeps a `+` hash.
 *
 * - keys, reply, errors: as `backfill` ("ERR delete_missing: ...")
 */
export function registerDeleteMissingFunction(writers: WriterContexts): void {
  redis.registerFunction(LibraryFunction.deleteMissing, (client, ...args) => JSON.stringify(recapture(client, writers, LibraryFunction.deleteMissing, args, captureDelete)), {
    description: 'captures a delete of the row of each given key that no longer exists (verify --repair)',
  });
}

/** `record`: the key's divergence record, null when it has none. */
type KeyCapture = (client: GearsClient, writer: WriterContext, key: string, record: string | null, counts: CountsTotal) => void;

function recapture(client: GearsClient, writers: WriterContexts, fn: string, args: string[], capture: KeyCapture): CountsTotal {
  const [stream, ...keys] = args;
  if (stream === undefined) throw functionError(fn, 'expected the capture stream and at least one key');
  const writer = writerOfStream(fn, writers, stream);
  if (keys.length === 0) throw functionError(fn, 'expected at least one key after the capture stream');
  if (keys.length > RECAPTURE_MAX_KEYS) throw functionError(fn, `at most ${RECAPTURE_MAX_KEYS} keys per call, got ${keys.length}`);
  const outside = keys.find((key) => !key.startsWith(writer.prefix));
  if (outside !== undefined) throw functionError(fn, `key '${outside}' is not under ${writer.prefix}, the prefix of ${writer.name}`);
  const records = readDivergenceRecords(client, keys, keys.map(() => writer));
  const counts = zeroCounts();
  keys.forEach((key, i) => capture(client, writer, key, records[i] ?? null, counts));
  return counts;
}

function captureImage(client: GearsClient, writer: WriterContext, key: string, record: string | null, counts: CountsTotal): void {
  const state = readHashState(client, key, writer.mappedFields);
  if (keptApart(client, writer, key, record, state)) counts.kept += 1;
  else if (state.kind === 'gone') counts.skipped += 1;
  else if (state.kind === 'not-hash') counts.notHash += 1;
  else append(client, writer, BACKFILL_EVENT, key, counts, (header) => upsertRecord(writer, header, state.fields));
}

const GONE: HashState = { kind: 'gone' };

function captureDelete(client: GearsClient, writer: WriterContext, key: string, record: string | null, counts: CountsTotal): void {
  if (replyInteger(client.call('EXISTS', key), 'EXISTS') !== 0n) counts.skipped += 1;
  else if (keptApart(client, writer, key, record, GONE)) counts.kept += 1;
  else append(client, writer, BACKFILL_EVENT, key, counts, (header) => deleteRecord(writer, header));
}

/**
 * Appends the record `build` makes for `key`, counted as captured or (an invalid id) dead-lettered with
 * `event` as its `dlq:event`.
 */
export function append(client: GearsClient, writer: WriterContext, event: string, key: string, counts: CountsTotal, build: Parameters<typeof appendRecord>[5]): void {
  // appendRecord dead-letters a key whose id is no valid primary key instead of appending: count which it did.
  const before = counts.captured;
  appendRecord(client, writer, event, key, null, (header) => {
    counts.captured += 1;
    return build(header);
  });
  if (counts.captured === before) counts.deadLettered += 1;
}
