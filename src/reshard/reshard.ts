/**
 * `writebehind reshard`: moves slots from one primary to another the way a slot holding a capture log must move
 * (docs/scale-out.md, slot migration), one slot at a time:
 *
 * 1. `CLUSTER SETSLOT <slot> IMPORTING <source>` on the destination, `MIGRATING <destination>` on the source;
 * 2. every key of the slot (`GETKEYSINSLOT`, all of them) in **one** `MIGRATE`: the capture log moves with its
 *    hashes, atomically for clients;
 * 3. `SETSLOT <slot> NODE <destination>` on the destination first, then the source (as the Redis documentation
 *    asks), then the other primaries (so they redirect at once, instead of after gossip);
 * 4. the slot's mapped keys re-captured on the destination (recapture-slots.ts): a write that reached the
 *    destination through `ASK` between 2 and 3 ran there, but its capture failed (the trigger's own calls carry
 *    no `ASKING`), and the re-captured state, later in the same log, repairs it. The migrated keys, and those
 *    in the slot just before `MIGRATING`, are re-captured too, so a key deleted in the move gets its delete.
 *
 * MIGRATE addresses the destination as the cluster announces it: with runtimes in front of the nodes, the
 * destination's runtime, which passes the `RESTORE-ASKING` calls on to its redis-server (the capture ignores
 * their `restore` events; capture-trigger.ts).
 */
import { ConfigError, WriteBehindError, errorMessage } from '../shared/errors.js';
import type { ClusterAdmin } from './cluster-admin.js';
import { slotsOf, type ClusterNodeEntry } from '../shared/cluster-nodes.js';
import { keysInSlot, leftAlone, recaptureSlot, type RecaptureTarget, type SlotRecapture } from './recapture-slots.js';

export interface ReshardOptions {
  /** The source and destination: a node id, or `host:port` as the cluster announces it. */
  readonly from: string;
  readonly to: string;
  /** The slots to move (each must be served by `from`), or … */
  readonly slots?: readonly number[];
  /** … this many of the source's slots, lowest first. */
  readonly count?: number;
  /** MIGRATE's timeout (ms of inactivity of the transfer). @defaultValue 60000 */
  readonly migrateTimeoutMs?: number;
  readonly print?: (line: string) => void;
}

export interface SlotMove {
  readonly slot: number;
  /** Keys moved (all of the slot's, in `migrateCalls` MIGRATE calls: 1 unless keys appeared meanwhile). */
  readonly keys: number;
  readonly migrateCalls: number;
  readonly recapture: SlotRecapture;
}

export interface ReshardResult {
  readonly from: string;
  readonly to: string;
  readonly moves: readonly SlotMove[];
  readonly runMs: number;
}

export async function reshard(admin: ClusterAdmin, target: RecaptureTarget, options: ReshardOptions): Promise<ReshardResult> {
  const print = options.print ?? (() => undefined);
  const started = Date.now();
  const nodes = await admin.topology();
  const source = primaryNamed(nodes, options.from, '--from');
  const destination = primaryNamed(nodes, options.to, '--to');
  if (source.id === destination.id) throw new ConfigError(`--from and --to name the same node (${source.address})`);
  const served = new Set(slotsOf(source));
  let slots: readonly number[];
  if (options.slots !== undefined) {
    const elsewhere = options.slots.filter((slot) => !served.has(slot));
    if (elsewhere.length > 0) throw new ConfigError(`--slots: ${describe(elsewhere)} not served by --from ${source.address}`);
    slots = options.slots;
  } else {
    slots = [...served].slice(0, options.count ?? 0);
  }
  print(`reshard: ${slots.length} slot(s) from ${source.address} (${source.id}) to ${destination.address} (${destination.id}), one at a time`);
  const others = nodes.filter((node) => node.primary && node.id !== source.id && node.id !== destination.id);
  const moves: SlotMove[] = [];
  for (const slot of slots) {
    const move = await moveSlot(admin, target, slot, source, destination, others, options.migrateTimeoutMs ?? 60_000, print);
    moves.push(move);
    print(`reshard: slot ${slot}: ${move.keys} key(s) moved in ${move.migrateCalls} MIGRATE call(s), ${move.recapture.mappedKeys} mapped key(s) re-captured (${move.recapture.captured} record(s))` +
      (move.recapture.skipped + move.recapture.kept > 0 ? `; ${leftAlone(move.recapture.skipped + move.recapture.kept)}` : '') +
      // Should not happen (see moveSlot); the re-capture covers the writes between the calls, which the log, on
      // the destination after the first call, could not capture on the source.
      (move.migrateCalls > 1 ? '; WARNING: more than one MIGRATE was needed (keys listed late): writes between the calls were captured only by the re-capture' : ''));
  }
  print(`reshard: done, ${moves.length} slot(s) moved to ${destination.address}`);
  return { from: source.address, to: destination.address, moves, runMs: Date.now() - started };
}

async function moveSlot(admin: ClusterAdmin, target: RecaptureTarget, slot: number, source: ClusterNodeEntry, destination: ClusterNodeEntry, others: readonly ClusterNodeEntry[], timeoutMs: number, print: (line: string) => void): Promise<SlotMove> {
  const s = String(slot);
  // The keys before MIGRATING too: a DEL on the source between MIGRATING and the MIGRATE is skipped by the
  // capture (its read of the key meets ASK, as a MIGRATE's own del does) and the key is then among no keys moved.
  let before: string[];
  try {
    await admin.send(destination.address, ['CLUSTER', 'SETSLOT', s, 'IMPORTING', source.id]);
    before = await keysInSlot(admin, source.address, slot);
    await admin.send(source.address, ['CLUSTER', 'SETSLOT', s, 'MIGRATING', destination.id]);
  } catch (cause) {
    throw stuck(slot, 'setting it IMPORTING/MIGRATING', cause);
  }
  const migrated: string[] = [];
  let migrateCalls = 0;
  try {
    // A MIGRATING slot takes no new keys on the source (a missing key is redirected with ASK), so one list of
    // them all moves the slot in one call; the loop only guards against a key listed late.
    for (let keys = await keysInSlot(admin, source.address, slot); keys.length > 0; keys = await keysInSlot(admin, source.address, slot)) {
      await admin.send(source.address, migrateCommand(admin, destination.address, keys, timeoutMs));
      migrated.push(...keys);
      migrateCalls += 1;
    }
  } catch (cause) {
    throw stuck(slot, 'MIGRATE', cause, `the slot is MIGRATING on ${source.address} and IMPORTING on ${destination.address}: fix the cause, then either run the move again by hand (MIGRATE the remaining keys, SETSLOT NODE) or CLUSTER SETSLOT ${slot} STABLE on both`);
  }
  try {
    await admin.send(destination.address, ['CLUSTER', 'SETSLOT', s, 'NODE', destination.id]);
    await admin.send(source.address, ['CLUSTER', 'SETSLOT', s, 'NODE', destination.id]);
  } catch (cause) {
    throw stuck(slot, 'SETSLOT NODE', cause, `send CLUSTER SETSLOT ${slot} NODE ${destination.id} to ${destination.address} and ${source.address}, then run writebehind recapture --slots ${slot}`);
  }
  // Only to spare clients a redirect until gossip tells the others: a primary that does not answer is no reason
  // to leave the slot without its re-capture.
  for (const node of others) await admin.send(node.address, ['CLUSTER', 'SETSLOT', s, 'NODE', destination.id]).catch((error: unknown) => print(`reshard: slot ${slot}: ${errorMessage(error)} (gossip will tell it)`));
  const recapture = await recaptureSlot(admin, target, slot, { node: destination.address, alsoKeys: [...before, ...migrated] });
  return { slot, keys: migrated.length, migrateCalls, recapture };
}

/** MIGRATE host port "" 0 timeout [AUTH2 user pass] KEYS k…, to the destination's announced address. */
function migrateCommand(admin: ClusterAdmin, destination: string, keys: readonly string[], timeoutMs: number): string[] {
  const colon = destination.lastIndexOf(':');
  const auth = admin.credentials();
  return ['MIGRATE', destination.slice(0, colon), destination.slice(colon + 1), '', '0', String(timeoutMs), ...(auth === undefined ? [] : ['AUTH2', auth.username, auth.password]), 'KEYS', ...keys];
}

function primaryNamed(nodes: readonly ClusterNodeEntry[], name: string, option: string): ClusterNodeEntry {
  const node = nodes.find((n) => n.id === name || n.address === name);
  if (node === undefined) throw new ConfigError(`${option}: '${name}' is no node of the cluster (give a node id or host:port as CLUSTER NODES lists: ${nodes.filter((n) => n.primary).map((n) => n.address).join(', ')})`);
  if (!node.primary) throw new ConfigError(`${option}: ${name} is a replica; slots move between primaries`);
  return node;
}

function describe(slots: readonly number[]): string {
  return slots.length === 1 ? `slot ${slots[0]} is` : `slots ${slots.slice(0, 10).join(', ')}${slots.length > 10 ? ', …' : ''} are`;
}

function stuck(slot: number, step: string, cause: unknown, suggestion?: string): WriteBehindError {
  return new WriteBehindError('RESHARD', `reshard of slot ${slot} failed at ${step}`, { cause, context: { slot, ...(suggestion === undefined ? {} : { suggestion }) } });
}
