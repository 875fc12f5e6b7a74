import { keySlot } from '../../src/shared/key-slot.js';
import { partitionOfKey } from '../../src/shared/keys.js';
import { LibraryFunction, RECAPTURE_MAX_KEYS, zeroCounts, type CountsTotal } from '../../src/shared/protocol.js';
import { decodeUtf8 } from '../bytes.js';
import { captureChange } from '../capture/capture-change.js';
import { deleteRecord, upsertRecord } from '../capture/capture-record.js';
import { DATABASE_ZERO } from '../capture/database.js';
import { flagReplicates, parseFlag } from '../flags.js';
import { keptApart, readDivergenceRecords } from '../capture/divergence.js';
import { readHashState } from '../capture/hash-state.js';
import { isClusterMode } from '../cluster-mode.js';
import type { WriterContext, WriterContexts } from '../writer-context.js';
import { append } from './backfill.js';
import { functionError } from './function-arguments.js';

/**
 * TFCALL <lib>.recapture <n> <hash key>...
 *
 * Captures each key's current state into the capture log a write to it would use (on a cluster its slot's log,
 * with `partitions: N` its partition's), as the record a live capture writes: the row image of a hash, or a
 * delete when the key does not exist. It is the cure of a change whose capture failed (docs/scale-out.md, slot
 * migration: a write that reached a slot's new node through `ASK` before `SETSLOT … NODE`): capture is
 * state-based, so the state re-captured after the lost change makes MySQL equal the hash again, in the log's
 * order after every change captured before it.
 *
 * A key written with `#` `+` or `-` is kept apart from MySQL on purpose: while its divergence record (in its
 * log's record hash, which moves with the slot) holds, it is left alone (counted as kept), as verify --repair
 * leaves it; a record that no longer holds (the key written since) is removed and the key re-captured as any
 * other. The records are read in this call, with the keys' states (one HMGET per record hash: a cluster call's
 * keys share their slot's), so a `+`/`-` write cannot land between the two; writes never read them.
 *
 * Unlike `backfill` (keys: the capture stream, then hashes of that one log; a gone key skipped), it is keyed by
 * the hashes themselves, so a cluster client routes it to their slot's owner, and a gone key is captured as a
 * delete: the state "no hash" is a state too. Except for a writer with `onExpire: keep`, whose gone key may
 * have expired with its row meant to stay: skipped. A hash that still holds a `#` field is a write whose
 * capture failed (a capture removes `#` first thing it changes; on a cluster, a `#` write that reached a
 * migrating slot: docs/scale-out.md): it is captured now as that write would have been, its flag applied
 * (`+`/`-`: the record written, `#` removed, the hash deleted for `-`; counted as kept), before the record is
 * judged.
 *
 * - keys: 1 to 1000 keys, each under a configured writer's prefix (any writers; on a cluster all in one slot,
 *   as for any multi-key command, and served by this node)
 * - reply: JSON text of RecaptureCounts (`captured`: images and deletes appended; `kept`: keys whose
 *   divergence record holds; `skipped`: gone keys of an `onExpire: keep` writer)
 * - errors: "ERR recapture: ..." for no keys, too many, or a key under no writer's prefix
 */
export function registerRecaptureFunction(partitionsOfWriters: readonly (readonly WriterContext[])[], contexts: WriterContexts): void {
  const fn = LibraryFunction.recapture;
  redis.registerFunction(fn, (client, ...keys) => {
    if (keys.length === 0) throw functionError(fn, 'expected at least one hash key');
    if (keys.length > RECAPTURE_MAX_KEYS) throw functionError(fn, `at most ${RECAPTURE_MAX_KEYS} keys per call, got ${keys.length}`);
    const logs = keys.map((key) => {
      const partitions = partitionsOfWriters.find((writer) => key.startsWith(writer[0]!.prefix));
      if (partitions === undefined) throw functionError(fn, `key '${key}' is under no writer's prefix (${partitionsOfWriters.map((writer) => writer[0]!.prefix).join(', ')})`);
      return logOf(client, partitions, contexts, key);
    });
    const records = readDivergenceRecords(client, keys, logs);
    const counts = zeroCounts();
    keys.forEach((key, i) => captureState(client, logs[i]!, key, records[i] ?? null, counts));
    return JSON.stringify(counts);
  }, {
    description: "captures each given hash's current state (its image, or a delete when gone) into its capture log, as a write would (writebehind recapture, reshard)",
  });
}

/** The log a capture of `key` writes to: the same choice as the capture trigger's (capture/capture-trigger.ts). */
function logOf(client: GearsClient, partitions: readonly WriterContext[], contexts: WriterContexts, key: string): WriterContext {
  if (isClusterMode(client)) return contexts.ofSlot(partitions[0]!.name, keySlot(key));
  return partitions.length === 1 ? partitions[0]! : partitions[partitionOfKey(key, partitions.length)]!;
}

/** `record`: the key's divergence record, null when it has none. */
function captureState(client: GearsClient, writer: WriterContext, key: string, record: string | null, counts: CountsTotal): void {
  const state = readHashState(client, key, writer.mappedFields);
  if (state.kind === 'hash' && state.flag !== null) captureFlaggedWrite(client, writer, key, state.flag, counts);
  else if (keptApart(client, writer, key, record, state)) counts.kept += 1;
  else if (state.kind === 'not-hash') counts.notHash += 1;
  else if (state.kind === 'hash') append(client, writer, LibraryFunction.recapture, key, counts, (header) => upsertRecord(writer, header, state.fields));
  else if (writer.onExpire === 'keep') counts.skipped += 1;
  else append(client, writer, LibraryFunction.recapture, key, counts, (header) => deleteRecord(writer, header));
}

/** A `#` write whose capture failed, captured now as the trigger would have (capture/capture-change.ts). */
function captureFlaggedWrite(client: GearsClient, writer: WriterContext, key: string, flag: ArrayBuffer, counts: CountsTotal): void {
  const value = decodeUtf8(flag);
  const kept = value !== null && parseFlagKeeps(value);
  // key_raw is read only for a key that is not text; a function's keys are text.
  captureChange(client, writer, { event: 'hset', key, key_raw: new ArrayBuffer(0) }, DATABASE_ZERO);
  if (kept) counts.kept += 1;
  else counts.captured += 1;
}

/** Whether a `#` value says `+` or `-` (kept apart from MySQL). */
function parseFlagKeeps(value: string): boolean {
  const directive = parseFlag(value);
  return directive.ok && !flagReplicates(directive.flag);
}
