/**
 * The Redis side of backfill and verify: SCAN steps over a writer's hashes, the library's re-capture functions
 * (TFCALL), images of hashes read together with their capture logs' last ids, the logs' commit cursors, and the
 * small state hashes `wb:backfill:{w}` / `wb:verify:{w}`. One Redis (single-reconcile-redis.ts) or a Redis
 * Cluster, where every primary is scanned and each key's records are in its slot's log
 * (cluster-reconcile-redis.ts); connect-reconcile-redis.ts picks one.
 */
import type { CountsTotal, RecaptureCounts } from '../shared/protocol.js';
import type { StreamKeys } from '../shared/keys.js';
import type { WriterTarget } from './writer-target.js';

/** A hash's mapped fields as they are now: null when the key does not exist, 'not-hash' for another type. */
export type HashImage = ReadonlyMap<string, Buffer | null> | null | 'not-hash';

export interface ImagesAt {
  readonly images: ReadonlyMap<string, HashImage>;
  /**
   * Each capture log the keys' changes may be in flight in, with its last record when the images were read;
   * null when it was empty (nothing in flight there).
   */
  readonly lastCaptureIds: ReadonlyArray<readonly [StreamKeys, string | null]>;
  /**
   * The divergence record (`#` `+`/`-`, shared/divergence-record.ts) of each key that has one, read in the same
   * instant as its image.
   */
  readonly records: ReadonlyMap<string, string>;
}

export interface ReconcileRedis {
  /**
   * One SCAN step over the hashes matching `pattern`: the next cursor and the keys. A scan starts at cursor '0'
   * and is done when '0' comes back; on a cluster the cursor also names the primary it is at.
   */
  scan(cursor: string, pattern: string, count: number): Promise<{ cursor: string; keys: string[] }>;
  /** TFCALL <library>.<fn> once per capture log the keys belong to (each key's own), the counts summed. */
  recapture(target: WriterTarget, fn: string, keys: readonly string[]): Promise<RecaptureCounts>;
  /**
   * The mapped fields of each key and the last id of each capture log the keys' changes go to, read atomically
   * per log: every change to a key made before its image was read has a record at or before its log's last id.
   */
  imagesAt(target: WriterTarget, keys: readonly string[]): Promise<ImagesAt>;
  /**
   * TFCALL <library>.forget_divergent once per capture log the keys belong to: removes the records that no longer
   * hold (judged by the library at that instant); the number removed.
   */
  forgetDivergent(target: WriterTarget, keys: readonly string[]): Promise<number>;
  /**
   * After a scan from '0' to its end: throws when slots changed owner meanwhile (a cluster's scan goes primary
   * by primary, so a slot moved to a primary already scanned had its keys skipped, one moved the other way had
   * them read twice). Absent where nothing moves (one Redis).
   */
  checkScanStable?(): Promise<void>;
  /** A capture log's commit cursor: the last capture id the worker committed to MySQL (null before the first). */
  committed(log: StreamKeys): Promise<string | null>;
  /** TYPE of each key ('none' when it does not exist). */
  types(keys: readonly string[]): Promise<string[]>;
  readState(key: string): Promise<Record<string, string>>;
  /** Replaces the state hash with `fields`. */
  writeState(key: string, fields: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

export type RawReply = null | number | bigint | Buffer | string | RawReply[];

/** The image of a key from its HMGET and EXISTS replies (HMGET alone cannot tell a missing key from a hash of unmapped fields only). */
export function imageOf(fields: readonly string[], values: RawReply | 'not-hash', exists: RawReply): HashImage {
  if (values === 'not-hash') return 'not-hash';
  if (Number(exists) === 0) return null;
  return new Map(fields.map((field, f) => [field, ((values as RawReply[])[f] as Buffer | null) ?? null]));
}

/** The records of an `HMGET <divergent hash> <key>...` reply, by key (keys without one left out). */
export function addRecords(records: Map<string, string>, keys: readonly string[], reply: RawReply): void {
  (reply as RawReply[]).forEach((value, i) => {
    if (value !== null) records.set(keys[i]!, String(value));
  });
}

/** The id of an `XREVRANGE … COUNT 1` reply's entry, or null for an empty stream. */
export function lastIdOf(reply: RawReply): string | null {
  const lastEntry = (reply as RawReply[])[0] as RawReply[] | undefined;
  return lastEntry === undefined ? null : String(lastEntry[0]);
}

export function addCounts(total: CountsTotal, counts: RecaptureCounts): void {
  total.captured += counts.captured;
  total.skipped += counts.skipped;
  total.kept += counts.kept;
  total.notHash += counts.notHash;
  total.deadLettered += counts.deadLettered;
}

/** The present mapped fields of an image, as a divergence record's fingerprint takes them; null for no key. */
export function fieldsOf(image: HashImage): Array<[string, Uint8Array]> | null {
  if (image === null) return null;
  if (image === 'not-hash') return [];
  const out: Array<[string, Uint8Array]> = [];
  // The values' bytes as read (worker/redis/raw-multi.ts), as the library fingerprinted them: non-UTF-8 values too.
  for (const [field, value] of image) if (value !== null) out.push([field, value]);
  return out;
}
