/**
 * The runtime's store keys on a cluster node. `__writebehind_runtime__:libraries` has one slot, served by one
 * node only, so each node keeps its store under its own node id and the tag of a slot it serves:
 * `__writebehind_runtime__:libraries:<node id>:{<tag>}` (and `:stream-positions:…` alike). A starting runtime
 * looks for its node's store on the node (SCAN, once); without one it takes the node's lowest slot. When that
 * slot is resharded away, the next store command gets MOVED or ASK, and the store moves to the node's lowest
 * slot now and writes every library there again (LibraryStore). A migrated-in store of another node is never
 * read: its name carries the other node's id. A node serving no slot yet (a cluster being created) has nowhere
 * to store: asked again on every use until it serves one.
 *
 * Replicas and failover: a replica holds its primary's store (replicated with the data), and its runtime reads
 * the libraries from it (`:<primary id>:`), writing nothing. A primary without a store of its own adopts the
 * store of a node that serves no slot any more — the primary it replaced at a failover, whose slots, and so
 * whose store's slot, it serves now — by renaming it to its own id (RENAME: same tag, same slot). The names
 * are looked up again after a role change (reset).
 */
import { slotTag } from '../../shared/key-slot.js';
import { LIBRARIES_KEY, STORE_DB, STREAM_POSITIONS_KEY, type StoreKeys, type StoreKeysResolver } from '../library-host/library-store.js';
import type { SyncRedis } from '../sync-redis/sync-redis.js';
import { lowestSlot, parseClusterNodes } from '../../shared/cluster-nodes.js';
import { text } from './cluster-nodes.js';

export function clusterStoreKeys(redis: SyncRedis): StoreKeysResolver {
  let keys: StoreKeys | null = null;
  const named = (id: string, tag: string): StoreKeys => ({
    libraries: `${LIBRARIES_KEY}:${id}:${tag}`,
    positions: `${STREAM_POSITIONS_KEY}:${id}:${tag}`,
    ...(tag.startsWith('{') && tag.endsWith('}') ? { node: { id, tag: tag.slice(1, -1) } } : {}),
  });
  const lookUp = (findExisting: boolean): StoreKeys | null => {
    const nodes = parseClusterNodes(text(redis.call(['CLUSTER', 'NODES'], STORE_DB)));
    const myself = nodes.find((node) => node.myself);
    const id = myself?.id ?? null;
    const primary = myself?.replicaOf ?? null;
    if (primary !== null) {
      // A write MOVED on a replica (its runtime has not seen the demotion yet) goes nowhere: the primary's runtime
      // stores. Relocating to the primary's store, whose writes are MOVED too, looped until the stack overflowed.
      if (!findExisting) return null;
      const stores = storesOnNode(redis);
      const tag = stores.find((store) => store.owner === primary)?.tag;
      return tag === undefined ? null : named(primary, tag);
    }
    const slot = myself === undefined ? null : lowestSlot(myself);
    if (id === null || slot === null) return null;
    if (!findExisting) return named(id, `{${slotTag(slot)}}`);
    const stores = storesOnNode(redis);
    const own = stores.find((store) => store.owner === id)?.tag ?? adoptOrphan(redis, stores, new Set(nodes.filter((node) => node.slots.length > 0).map((node) => node.id)), named(id, ''));
    return named(id, own ?? `{${slotTag(slot)}}`);
  };
  return {
    keys: () => (keys ??= lookUp(true)),
    relocate: () => (keys = lookUp(false)),
    reset: () => {
      keys = null;
    },
  };
}

/** A store on this node: the node id its name carries and its `{tag}`. */
interface NodeStore {
  readonly owner: string;
  readonly tag: string;
}

/** The libraries keys on this node (SCAN sees only the node's own keys). */
function storesOnNode(redis: SyncRedis): NodeStore[] {
  const stores: NodeStore[] = [];
  const prefix = `${LIBRARIES_KEY}:`;
  let cursor = '0';
  do {
    const reply = redis.call(['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '10000'], STORE_DB);
    if (reply.type !== 'array') return stores;
    const [next, found] = reply.value;
    cursor = text(next);
    for (const key of found?.type === 'array' ? found.value : []) {
      const rest = text(key).slice(prefix.length);
      const colon = rest.indexOf(':');
      if (colon > 0) stores.push({ owner: rest.slice(0, colon), tag: rest.slice(colon + 1) });
    }
  } while (cursor !== '0');
  return stores;
}

/**
 * Renames the store of a node that serves no slot (a failed-over primary) to this node's names (`mine` with an
 * empty tag); its tag, or null when there is none.
 */
function adoptOrphan(redis: SyncRedis, stores: readonly NodeStore[], serving: ReadonlySet<string>, mine: StoreKeys): string | null {
  const orphan = stores.find((store) => !serving.has(store.owner));
  if (orphan === undefined) return null;
  const from = { libraries: `${LIBRARIES_KEY}:${orphan.owner}:${orphan.tag}`, positions: `${STREAM_POSITIONS_KEY}:${orphan.owner}:${orphan.tag}` };
  const moved = redis.call(['RENAME', from.libraries, mine.libraries + orphan.tag], STORE_DB);
  if (moved.type === 'error') return null;
  // No positions yet is no error: RENAME says "no such key".
  redis.call(['RENAME', from.positions, mine.positions + orphan.tag], STORE_DB);
  return orphan.tag;
}
