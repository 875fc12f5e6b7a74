/**
 * ReconcileRedis on a Redis Cluster. The library captures each key into its slot's log on the key's shard
 * (`wb:changes:<w>:<slot>/16384:{tag}`, docs/scale-out.md), so here:
 * - a scan goes over every primary in turn (in address order), the cursor naming the primary and its own SCAN
 *   cursor (`<host:port>/<cursor>`);
 * - a re-capture calls the library once per slot, with that slot's log and keys (a call's keys must be in one
 *   slot), each on its shard, all of a page in flight at once;
 * - images are read per slot in one MULTI with the slot log's last id and the slot's divergence records; the writer's `{w}` log (a backlog the
 *   unpartitioned library may have left) is read after them, since nothing new is captured there. A MULTI goes
 *   to the slot's owner as last seen and follows no redirect: a slot moved since (MOVED) is looked up again and
 *   read on its new owner; a slot in migration (ASK, TRYAGAIN: its keys and log on two nodes, which no one MULTI
 *   reads) is tried again for up to SLOT_MOVE_WAIT_MS, then fails naming the slot, its nodes and what to do.
 *   Never a report from half a slot.
 */
import { RedisCommandError, errorMessage } from '../shared/errors.js';
import { CLUSTER_SLOTS, keySlot } from '../shared/key-slot.js';
import { partitionKeys, type StreamKeys } from '../shared/keys.js';
import { LibraryFunction, MetaField, zeroCounts, type RecaptureCounts } from '../shared/protocol.js';
import { ClusterTransport } from '../worker/redis/cluster-transport.js';
import type { CommandArgs } from '../worker/redis/redis-transport.js';
import { recaptureCountsOf } from './recapture-counts.js';
import { slotRedirectOf } from './slot-redirect.js';
import { addCounts, addRecords, imageOf, lastIdOf, type HashImage, type ImagesAt, type RawReply, type ReconcileRedis } from './reconcile-redis.js';
import type { WriterTarget } from './writer-target.js';

/** How long a MULTI of a slot in migration is tried again before verify fails naming it (a move is one MIGRATE per slot). */
const SLOT_MOVE_WAIT_MS = 5_000;

export class ClusterReconcileRedis implements ReconcileRedis {
  readonly #cluster: ClusterTransport;

  private constructor(cluster: ClusterTransport) {
    this.#cluster = cluster;
  }

  static async connect(url: string): Promise<ClusterReconcileRedis> {
    return new ClusterReconcileRedis(await ClusterTransport.connect(url));
  }

  async #send(args: CommandArgs, key: string | undefined, node?: string): Promise<RawReply> {
    try {
      return (await (node === undefined ? this.#cluster.send(args, key) : this.#cluster.sendToNode(node, args))) as RawReply;
    } catch (cause) {
      const command = args.slice(0, args[0] === 'TFCALL' ? 2 : 1).map(String).join(' ');
      throw new RedisCommandError(`${command}${node === undefined ? '' : ` on ${node}`} failed: ${errorMessage(cause)}`, { cause, context: { command, key } });
    }
  }

  #primaries(): string[] {
    return this.#cluster.primaries().sort();
  }

  /**
   * Each slot's owner (node id) as the primaries themselves say (each one's `myself` line of CLUSTER NODES),
   * when a scan last started at '0'; read again by checkScanStable at its end.
   */
  #ownersAtScanStart: Map<number, string> | undefined;

  /**
   * One SCAN step on the primary the cursor names ('0': the first one); when that primary's scan is done the
   * cursor moves to the next primary, and after the last it is '0'. A cursor naming a node that is no longer a
   * primary (a failover since it was stored) starts over at the first: a replica's SCAN cursors are not the
   * old primary's.
   */
  async scan(cursor: string, pattern: string, count: number): Promise<{ cursor: string; keys: string[] }> {
    if (cursor === '0') this.#ownersAtScanStart = await this.#slotOwners();
    const primaries = this.#primaries();
    const at = cursor.lastIndexOf('/');
    let node = at < 0 ? primaries[0]! : cursor.slice(0, at);
    let nodeCursor = at < 0 ? '0' : cursor.slice(at + 1);
    if (!primaries.includes(node)) [node, nodeCursor] = [primaries[0]!, '0'];
    const [next, keys] = (await this.#send(['SCAN', nodeCursor, 'MATCH', pattern, 'COUNT', String(count), 'TYPE', 'hash'], undefined, node)) as [Buffer, Buffer[]];
    const following = primaries[primaries.indexOf(node) + 1];
    const nextCursor = String(next) !== '0' ? `${node}/${String(next)}` : following === undefined ? '0' : `${following}/0`;
    return { cursor: nextCursor, keys: keys.map(String) };
  }

  async checkScanStable(): Promise<void> {
    const before = this.#ownersAtScanStart;
    if (before === undefined) return;
    const now = await this.#slotOwners();
    const moved: string[] = [];
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      const [from, to] = [before.get(slot), now.get(slot)];
      if (from !== to) moved.push(`slot ${slot} (${from ?? 'no owner'} → ${to ?? 'no owner'})`);
    }
    if (moved.length === 0) return;
    const shown = moved.length > 5 ? `${moved.slice(0, 5).join(', ')} and ${moved.length - 5} more` : moved.join(', ');
    throw new RedisCommandError(`${moved.length} slot(s) changed owner while the primaries were scanned one after another: ${shown}. The keys of a slot that moved to a primary `
      + 'already scanned were not compared, and of one that moved the other way compared twice, so no report is given: run verify again once the slots stay put', { context: { command: 'SCAN', moved: moved.length } });
  }

  /** Each served slot's primary (node id), from every primary's own line of CLUSTER NODES (fresher than gossip). */
  async #slotOwners(): Promise<Map<number, string>> {
    const owners = new Map<number, string>();
    for (const primary of this.#primaries()) {
      const nodes = String(await this.#send(['CLUSTER', 'NODES'], undefined, primary));
      const myself = nodes.split('\n').find((line) => line.split(' ')[2]?.split(',').includes('myself'));
      if (myself === undefined) continue;
      const [id, ...fields] = myself.trim().split(' ');
      for (const range of fields.slice(7)) {
        // `[slot->-id]` / `[slot-<-id]`: a migration under way, not ownership.
        if (range.startsWith('[')) continue;
        const [low, high] = range.split('-').map(Number) as [number, number | undefined];
        for (let slot = low; slot <= (high ?? low); slot++) owners.set(slot, id!);
      }
    }
    return owners;
  }

  async recapture(target: WriterTarget, fn: string, keys: readonly string[]): Promise<RecaptureCounts> {
    const total = zeroCounts();
    const calls = [...bySlot(keys)].map(async ([slot, group]) => {
      const stream = slotLog(target, slot).changes;
      return recaptureCountsOf(await this.#send(['TFCALL', `${target.library}.${fn}`, String(group.length + 1), stream, ...group], stream));
    });
    for (const counts of await Promise.all(calls)) addCounts(total, counts);
    return total;
  }

  async forgetDivergent(target: WriterTarget, keys: readonly string[]): Promise<number> {
    const calls = [...bySlot(keys)].map(async ([slot, group]) => {
      const stream = slotLog(target, slot).changes;
      return Number(await this.#send(['TFCALL', `${target.library}.${LibraryFunction.forgetDivergent}`, String(group.length + 1), stream, ...group], stream));
    });
    return (await Promise.all(calls)).reduce((sum, n) => sum + n, 0);
  }

  async imagesAt(target: WriterTarget, keys: readonly string[]): Promise<ImagesAt> {
    const fields = target.mappings.map(([field]) => field);
    const images = new Map<string, HashImage>();
    const records = new Map<string, string>();
    const slots = await Promise.all([...bySlot(keys)].map(async ([slot, group]) => {
      const log = slotLog(target, slot);
      const commands: CommandArgs[] = group.flatMap((key) => [['HMGET', key, ...fields], ['EXISTS', key]]);
      commands.push(['XREVRANGE', log.changes, '+', '-', 'COUNT', '1'], ['HMGET', log.divergent, ...group]);
      const replies = await this.#transaction(log.changes, commands, `HMGET of ${group.length} keys of slot ${slot}`);
      // A key of another type fails its HMGET only; the others stand.
      group.forEach((key, i) => {
        const values = replies[2 * i];
        images.set(key, imageOf(fields, values instanceof Error ? 'not-hash' : values!, replies[2 * i + 1] as RawReply));
      });
      const last = replies[2 * group.length];
      if (last instanceof Error) throw new RedisCommandError(`XREVRANGE ${log.changes} failed: ${last.message}`, { cause: last, context: { command: 'XREVRANGE', key: log.changes } });
      const held = replies[2 * group.length + 1];
      if (held instanceof Error) throw new RedisCommandError(`HMGET ${log.divergent} failed: ${held.message}`, { cause: held, context: { command: 'HMGET', key: log.divergent } });
      addRecords(records, group, held!);
      return [log, lastIdOf(last!)] as const;
    }));
    const legacy = lastIdOf(await this.#send(['XREVRANGE', target.keys.changes, '+', '-', 'COUNT', '1'], target.keys.changes));
    return { images, lastCaptureIds: [[target.keys, legacy], ...slots], records };
  }

  async committed(log: StreamKeys): Promise<string | null> {
    const value = await this.#send(['HGET', log.meta, MetaField.committed], log.meta);
    return value === null ? null : String(value);
  }

  async types(keys: readonly string[]): Promise<string[]> {
    return Promise.all(keys.map(async (key) => String(await this.#send(['TYPE', key], key))));
  }

  async readState(key: string): Promise<Record<string, string>> {
    const reply = (await this.#send(['HGETALL', key], key)) as Buffer[];
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
    return out;
  }

  async writeState(key: string, fields: Record<string, string>): Promise<void> {
    const replies = await this.#transaction(key, [['DEL', key], ['HSET', key, ...Object.entries(fields).flat()]], `writing ${key}`);
    const error = replies.find((reply): reply is Error => reply instanceof Error);
    if (error !== undefined) throw new RedisCommandError(`writing ${key} failed: ${error.message}`, { cause: error, context: { command: 'HSET', key } });
  }

  /**
   * `commands` in one MULTI on the owner of `key`'s slot. MOVED: the topology is looked up again and the MULTI
   * sent to the new owner. ASK or TRYAGAIN (the slot in migration): tried again, a little later each time, until
   * SLOT_MOVE_WAIT_MS have passed, then a failure naming the slot, the nodes and the way out.
   */
  async #transaction(key: string, commands: ReadonlyArray<CommandArgs>, what: string): Promise<Array<RawReply | Error>> {
    const slot = keySlot(key);
    const deadline = Date.now() + SLOT_MOVE_WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      const node = this.#cluster.nodeOf(key) ?? 'no node';
      try {
        return await this.#cluster.transaction(key, commands);
      } catch (cause) {
        const redirect = slotRedirectOf(cause);
        if (redirect === undefined) throw new RedisCommandError(`MULTI (${what}) failed: ${errorMessage(cause)}`, { cause, context: { command: 'MULTI', key } });
        if (Date.now() >= deadline) {
          const state = redirect.kind === 'moved'
            ? `kept moving (the MULTI on ${node} met ${redirect.reply} after the topology was looked up again)`
            : `is being migrated from ${node}${redirect.to === undefined ? '' : ` to ${redirect.to}`} (the MULTI met ${redirect.reply}): its keys are on two nodes, which no one MULTI reads`;
          throw new RedisCommandError(`MULTI (${what}) failed: slot ${slot} ${state}, still after ${SLOT_MOVE_WAIT_MS / 1000} s. Finish the move `
            + `(writebehind reshard --from ${node} --to ${redirect.kind === 'migrating' ? (redirect.to ?? '<node>') : '<node>'} --slots ${slot}, or redis-cli --cluster fix), then run verify again`, { cause, context: { command: 'MULTI', key, slot, node } });
        }
        if (redirect.kind === 'moved') await this.#cluster.refreshSlotOf(key).catch(() => undefined);
        if (redirect.kind === 'migrating' || attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 500)));
      }
    }
  }

  async close(): Promise<void> {
    await this.#cluster.close();
  }
}

/** The keys grouped by their cluster slot. */
function bySlot(keys: readonly string[]): Map<number, string[]> {
  const groups = new Map<number, string[]>();
  for (const key of keys) {
    const slot = keySlot(key);
    const group = groups.get(slot);
    if (group === undefined) groups.set(slot, [key]);
    else group.push(key);
  }
  return groups;
}

/** The log the library captures keys of `slot` into on a cluster, whatever the writer's `partitions`. */
function slotLog(target: WriterTarget, slot: number): StreamKeys {
  return partitionKeys(target.name, slot, CLUSTER_SLOTS);
}
