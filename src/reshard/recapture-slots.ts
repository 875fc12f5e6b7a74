/**
 * Re-capture of whole slots on a Redis Cluster (`writebehind recapture`, and the last step of each slot
 * `writebehind reshard` moves): on the slot's owner, every key of the slot under a writer's prefix is handed to
 * the library's `recapture` function, which appends the hash's current state (or a delete) to the slot's
 * capture log as a write would. It repairs the changes whose capture failed in a migration's window
 * (docs/scale-out.md, slot migration): they are older than the re-captured state, and in the same log.
 *
 * `CLUSTER GETKEYSINSLOT` has a count but no cursor, so a slot's key names are read in one call (a slot holds
 * 1/16384 of the keys: ~610 per slot for 10M keys); the library calls then go in pages sized as backfill's.
 */
import { WriteBehindError, errorMessage } from '../shared/errors.js';
import { LibraryFunction, zeroCounts, type RecaptureCounts } from '../shared/protocol.js';
import { FIRST_BACKFILL_PAGE, nextPageSize } from '../reconcile/backfill.js';
import { addCounts } from '../reconcile/reconcile-redis.js';
import { recaptureCountsOf } from '../reconcile/recapture-counts.js';
import { ProgressLine, perSecond } from '../reconcile/progress-line.js';
import { RECAPTURE_MAX_KEYS } from '../shared/protocol.js';
import type { ClusterAdmin } from './cluster-admin.js';
import { ownerOfSlot } from '../shared/cluster-nodes.js';
import { slotMigrations, type SlotMigration } from './slot-migrations.js';

export interface RecaptureTarget {
  /** The library (`config.name`): `TFCALL <library>.recapture`. */
  readonly library: string;
  /** Every writer's `<keysPrefix>:`: only keys under one are re-captured. */
  readonly prefixes: readonly string[];
}

export interface SlotRecapture extends RecaptureCounts {
  readonly slot: number;
  /** The owner it ran on (`host:port`). */
  readonly node: string;
  /** Keys in the slot (all of them, mapped or not) when it was read. */
  readonly keysInSlot: number;
  /** Mapped keys handed to the library. */
  readonly mappedKeys: number;
}

export interface RecaptureSlotOptions {
  /** The slot's owner, when the caller knows it (reshard); else looked up. */
  readonly node?: string;
  /**
   * Keys to re-capture besides those in the slot now: a slot move passes the keys it migrated, so a key
   * deleted in the window (no longer in the slot) gets its delete captured.
   */
  readonly alsoKeys?: readonly string[];
}

export async function recaptureSlot(admin: ClusterAdmin, target: RecaptureTarget, slot: number, options: RecaptureSlotOptions = {}): Promise<SlotRecapture> {
  const node = options.node ?? ownerOfSlot(await admin.topology(), slot)?.address;
  if (node === undefined) throw new WriteBehindError('SLOT_UNSERVED', `slot ${slot} is served by no primary (CLUSTER NODES)`);
  const inSlot = await keysInSlot(admin, node, slot);
  const mapped = [...new Set([...inSlot, ...(options.alsoKeys ?? [])])].filter((key) => target.prefixes.some((prefix) => key.startsWith(prefix)));
  const total = zeroCounts();
  let page = FIRST_BACKFILL_PAGE;
  for (let i = 0; i < mapped.length; ) {
    const keys = mapped.slice(i, i + page);
    i += keys.length;
    const called = performance.now();
    const reply = await admin.send(node, ['TFCALL', `${target.library}.${LibraryFunction.recapture}`, String(keys.length), ...keys]);
    page = nextPageSize(keys.length, performance.now() - called, RECAPTURE_MAX_KEYS);
    addCounts(total, recaptureCountsOf(reply));
  }
  return { slot, node, keysInSlot: inSlot.length, mappedKeys: mapped.length, ...total };
}

/** Every key of `slot` on `node`, in one GETKEYSINSLOT (it has no cursor). */
export async function keysInSlot(admin: ClusterAdmin, node: string, slot: number): Promise<string[]> {
  const count = Number(await admin.send(node, ['CLUSTER', 'COUNTKEYSINSLOT', String(slot)]));
  if (count === 0) return [];
  // Keys created after the count were written after it, so captured by their own writes.
  return ((await admin.send(node, ['CLUSTER', 'GETKEYSINSLOT', String(slot), String(count)])) as string[]).map(String);
}

export interface RecaptureSlotsResult {
  readonly slots: number;
  readonly mappedKeys: number;
  readonly captured: number;
  /** Mapped keys gone under `onExpire: keep`: left as they are. */
  readonly skipped: number;
  /** Mapped keys written with `#` `+`/`-` and unchanged since: left as they are. */
  readonly kept: number;
  readonly deadLettered: number;
  readonly runMs: number;
}

/**
 * recaptureSlot for each slot in turn, with a progress line at most once a second and one at the end.
 *
 * A slot in the middle of a move (MIGRATING on some primary or IMPORTING on one) is not re-captured: its window
 * is still open (a write through ASK now is lost again), and the keys already moved and the capture log may be
 * on the destination while the owner still answers for the slot (the library's call meets ASK). The other slots
 * are re-captured all the same (they do not depend on it, and a rerun then needs only the named slots); then a
 * SLOT_MIGRATING error names each such slot, where it is MIGRATING and IMPORTING and how to finish the move.
 */
export async function recaptureSlots(admin: ClusterAdmin, target: RecaptureTarget, slots: readonly number[], print: (line: string) => void): Promise<RecaptureSlotsResult> {
  const started = Date.now();
  const progress = new ProgressLine(print);
  const moving = await migrationsBySlot(admin);
  const unfinished: string[] = [];
  let done = 0;
  let mappedKeys = 0;
  let captured = 0;
  let skipped = 0;
  let kept = 0;
  let deadLettered = 0;
  const line = () => `recapture: ${done} of ${slots.length} slot(s), ${mappedKeys} mapped key(s), captured ${captured}, ${perSecond(mappedKeys, Date.now() - started)} keys/s`;
  for (const slot of slots) {
    const migration = moving.get(slot);
    if (migration !== undefined) {
      unfinished.push(describeMove(slot, migration));
      continue;
    }
    let result: SlotRecapture;
    try {
      result = await recaptureSlot(admin, target, slot);
    } catch (error) {
      // A move that began after the listing: the library's call met ASK (or MOVED) on the owner.
      if (!/\b(ASK|MOVED) \d+ /.test(errorMessage(error))) throw error;
      unfinished.push(`slot ${slot} redirected the re-capture (${errorMessage(error)}): a move of it began meanwhile`);
      continue;
    }
    done += 1;
    mappedKeys += result.mappedKeys;
    captured += result.captured;
    skipped += result.skipped;
    kept += result.kept;
    deadLettered += result.deadLettered;
    progress.update(line);
  }
  progress.update(() => `${line()}; done${skipped + kept > 0 ? `; ${leftAlone(skipped + kept)}` : ''}${deadLettered > 0 ? ` (${deadLettered} key(s) without a valid id dead-lettered: writebehind dlq list)` : ''}`, true);
  if (unfinished.length > 0) {
    throw new WriteBehindError('SLOT_MIGRATING', `recapture: ${unfinished.join('; ')}; ${done} other slot(s) re-captured`, {
      context: { slots: unfinished.length, suggestion: 'a slot move must finish before its slot is re-captured: see docs/scale-out.md, slot migration' },
    });
  }
  return { slots: slots.length, mappedKeys, captured, skipped, kept, deadLettered, runMs: Date.now() - started };
}

/** What the library's `kept` and `skipped` count together, for the progress lines of recapture and reshard. */
export function leftAlone(keys: number): string {
  return `${keys} key(s) left as they are (written with # + or - and unchanged since, or gone under onExpire: keep)`;
}

interface SlotMove {
  migrating?: SlotMigration;
  importing?: SlotMigration;
}

async function migrationsBySlot(admin: ClusterAdmin): Promise<Map<number, SlotMove>> {
  let migrations: SlotMigration[];
  try {
    migrations = await slotMigrations(admin);
  } catch (cause) {
    throw new WriteBehindError('SLOT_MIGRATIONS_UNKNOWN', `recapture: cannot tell which slots are in the middle of a move (a primary must answer CLUSTER NODES): ${errorMessage(cause)}`, { cause });
  }
  const bySlot = new Map<number, SlotMove>();
  for (const migration of migrations) bySlot.set(migration.slot, { ...bySlot.get(migration.slot), [migration.state]: migration });
  return bySlot;
}

/** "slot S is MIGRATING on A and IMPORTING on B: finish the move first — …". */
function describeMove(slot: number, move: SlotMove): string {
  const from = move.migrating?.node ?? move.importing?.peer ?? '?';
  const to = move.importing?.node ?? move.migrating?.peer ?? '?';
  const where = [move.migrating === undefined ? `not MIGRATING on ${from}` : `MIGRATING on ${from}`, move.importing === undefined ? `not IMPORTING on ${to}` : `IMPORTING on ${to}`].join(' and ');
  return `slot ${slot} is ${where}: its move must finish first (writebehind reshard --from ${from} --to ${to} --slots ${slot} moves the keys left and re-captures the slot; or redis-cli --cluster fix, then writebehind recapture --slots ${slot})`;
}
