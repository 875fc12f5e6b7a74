/**
 * `dlq replay`: makes MySQL reflect the current Redis state of each dead-lettered key, re-captured through the
 * library as `verify --repair` does (`backfill` for a hash, `delete_missing` for a key that is gone), never the
 * letter's own row image. That image is of the time it failed: once the key was written again and that write
 * landed (the usual case: the column was widened, later writes went through), writing it would take the row
 * back in time, and a dead-lettered delete would delete a key re-created since. When the letter is still the
 * key's newest change, the key's state is its image (or its absence), so re-capturing it writes the same thing.
 * The re-capture goes into the key's capture log after every change captured before it, so the log's order holds.
 *
 * A letter is left in place (counted as skipped, with why) when its key cannot be re-captured safely:
 * - its divergence record (`#` `+`/`-`, shared/divergence-record.ts) holds: the key was kept apart from MySQL on
 *   purpose since, as verify --repair leaves it (write the hash again to replicate it, or purge the letter);
 * - it is gone and the writer keeps rows of expired hashes (`onExpire: keep`): whether it expired (row kept) or
 *   was deleted cannot be told;
 * - it is not a hash now, or its re-capture outlasts the lock timeout;
 * - the letter names no key, or is of the capture stage (no record was made: rewrite the hash).
 * A `+`/`-` write between the record check and the re-capture is not replicated (the library judges the record
 * again in its call), but the key counts as re-captured: its letters go.
 */
import { recordHolds } from '../../shared/divergence-record.js';
import { LibraryFunction } from '../../shared/protocol.js';
import { connectReconcileRedis } from '../../reconcile/connect-reconcile-redis.js';
import { recaptureSplitting, REPAIR_PAGE } from '../../reconcile/recapture-splitting.js';
import { fieldsOf } from '../../reconcile/reconcile-redis.js';
import type { WriterTarget } from '../../reconcile/writer-target.js';


/** Why a key's letters were left in place. */
export type LeftReason = 'kept' | 'gone-kept-rows' | 'not-hash' | 'killed';

export interface KeyReplay {
  /** Keys whose current state was re-captured (or found gone and captured as a delete): their letters go. */
  readonly recaptured: ReadonlySet<string>;
  /** Keys left, with why: their letters stay. */
  readonly left: ReadonlyMap<string, LeftReason>;
}

/** Re-captures the current state of each key (see the module comment), through the Redis at `redisUrl`. */
export async function recaptureCurrentState(redisUrl: string, target: WriterTarget, keys: readonly string[]): Promise<KeyReplay> {
  const redis = await connectReconcileRedis(redisUrl);
  const recaptured = new Set<string>();
  const left = new Map<string, LeftReason>();
  try {
    for (let i = 0; i < keys.length; i += REPAIR_PAGE) {
      const page = keys.slice(i, i + REPAIR_PAGE);
      const { images, records } = await redis.imagesAt(target, page);
      const hashes: string[] = [];
      const gone: string[] = [];
      for (const key of page) {
        const image = images.get(key) ?? null;
        const record = records.get(key);
        if (record !== undefined && recordHolds(record, fieldsOf(image))) left.set(key, 'kept');
        else if (image === 'not-hash') left.set(key, 'not-hash');
        else if (image !== null) hashes.push(key);
        else if (target.keepsRowsWithoutHash) left.set(key, 'gone-kept-rows');
        else gone.push(key);
      }
      // A key deleted (or re-created) between the read and the call is skipped by the library: its own live
      // capture carries its state, so its letters go too.
      for (const [fn, group] of [[LibraryFunction.backfill, hashes], [LibraryFunction.deleteMissing, gone]] as const) {
        if (group.length === 0) continue;
        const { killed } = await recaptureSplitting(redis, target, fn, group);
        for (const key of group) if (killed.includes(key)) left.set(key, 'killed');
        else recaptured.add(key);
      }
    }
  } finally {
    await redis.close();
  }
  return { recaptured, left };
}

/** The clauses of `dlq replay`'s line for the letters left, by reason; '' when none. */
export function leftClauses(counts: ReadonlyMap<LeftReason | 'capture' | 'no-key', number>): string {
  const WHY: Record<LeftReason | 'capture' | 'no-key', string> = {
    capture: 'capture-stage letter(s) left (rewrite those hashes instead)',
    kept: 'letter(s) of keys written with # + or # - since left (kept apart from MySQL on purpose: write the hash again to replicate it, or purge)',
    'gone-kept-rows': 'letter(s) of keys gone under onExpire: keep left (expired or deleted cannot be told: rewrite the hash, or purge)',
    'not-hash': 'letter(s) of keys that are no hashes now left',
    killed: 'letter(s) left whose key\'s re-capture outlasts lock-redis-timeout (raise it, or shrink the hash)',
    'no-key': 'letter(s) naming no key left (purge them)',
  };
  return [...counts].filter(([, n]) => n > 0).map(([why, n]) => `; ${n} ${WHY[why]}`).join('');
}
