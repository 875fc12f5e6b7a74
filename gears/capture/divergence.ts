/**
 * The divergence record of a `+` or `-` write (src/shared/divergence-record.ts): the key is kept apart from
 * MySQL on purpose, and a repair must not undo that. Written in the write's own execution unit, next to the
 * capture log the key's changes go to (`writer.keys.divergent`, in the log's slot: on a cluster the key's own).
 * Read back, and judged against the key's state, by the functions that may undo it (`forget_divergent`,
 * `backfill`, `delete_missing`, `recapture`), never by a write's capture.
 */
import { DELETED_RECORD, keptRecord, recordHolds } from '../../src/shared/divergence-record.js';
import type { Flag } from '../flags.js';
import { replyArray, replyOptionalString } from '../replies.js';
import type { WriterContext } from '../writer-context.js';
import type { HashState } from './hash-state.js';

export function recordDivergence(client: GearsClient, writer: WriterContext, key: string, flag: Flag, fields: ReadonlyMap<string, ArrayBuffer>): void {
  const record = flag === '-' ? DELETED_RECORD : keptRecord(imageOf(fields));
  client.call('HSET', writer.keys.divergent, key, record);
}

/** The mapped fields present, as the fingerprint takes them. */
export function imageOf(fields: ReadonlyMap<string, ArrayBuffer>): Array<[string, Uint8Array]> {
  const out: Array<[string, Uint8Array]> = [];
  for (const [name, value] of fields) out.push([name, new Uint8Array(value)]);
  return out;
}

/**
 * True while `record` still describes the key in `state` (readHashState). A key of another type has no mapped
 * fields: a `-` record does not hold for it, a `+` one only if it was made of no mapped field.
 */
export function divergenceHolds(record: string, state: HashState): boolean {
  return recordHolds(record, state.kind === 'hash' ? imageOf(state.fields) : state.kind === 'gone' ? null : []);
}

/**
 * The judgement of a function about to capture `key` in `state` (`backfill`, `delete_missing`, `recapture`):
 * true while its record (`record`, null for none) holds, so the key is left alone; a record that no longer
 * holds is removed, in the same execution unit as the capture that follows, so a `+`/`-` write cannot land
 * between the judgement and the capture.
 */
export function keptApart(client: GearsClient, writer: WriterContext, key: string, record: string | null, state: HashState): boolean {
  if (record === null) return false;
  if (divergenceHolds(record, state)) return true;
  client.call('HDEL', writer.keys.divergent, key);
  return false;
}

/**
 * The records of `keys` (null where a key has none), `writers[i]` the log `keys[i]` is captured into: one HMGET
 * per record hash, so a call whose keys share a log (a cluster slot's keys) reads them all at once.
 */
export function readDivergenceRecords(client: GearsClient, keys: readonly string[], writers: readonly WriterContext[]): (string | null)[] {
  const byHash = new Map<string, number[]>();
  keys.forEach((_, i) => {
    const hash = writers[i]!.keys.divergent;
    const indexes = byHash.get(hash);
    if (indexes === undefined) byHash.set(hash, [i]);
    else indexes.push(i);
  });
  const records: (string | null)[] = new Array(keys.length).fill(null);
  for (const [hash, indexes] of byHash) {
    const replies = replyArray(client.call('HMGET', hash, ...indexes.map((i) => keys[i]!)), 'HMGET');
    indexes.forEach((keyIndex, i) => (records[keyIndex] = replyOptionalString(replies[i] ?? null, 'HMGET')));
  }
  return records;
}
