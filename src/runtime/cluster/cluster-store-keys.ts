/**
 * The runtime's store keys on a cluster node. `__writebehind_runtime__:libraries` has one slot, served by one
 * node only, so each node keeps its store under its own node id and the tag of a slot it serves:
 * `__writebehind_runtime__:libraries:<node id>:{<tag>}` (and `:stream-positions:…` alike). A starting runtime
 * looks for its node's store on the node (SCAN, once); without one it takes the node's lowest slot. When that
 * slot is resharded away, the next store command gets MOVED or ASK, and the store moves to the node's lowest
 * slot now and writes every library there again (LibraryStore). A migrated-in store of another node is never
 * read: its name carries the other node's id. A node serving no slot yet (a cluster being created) has nowhere
 * to store: asked again on every use until it serves one.
 */
import { slotTag } from '../../shared/key-slot.js';
import { LIBRARIES_KEY, STORE_DB, STREAM_POSITIONS_KEY, type StoreKeys, type StoreKeysResolver } from '../library-host/library-store.js';
import type { SyncRedis } from '../sync-redis/sync-redis.js';
import { lowestServedSlot, myNodeId, text } from './cluster-nodes.js';

export function clusterStoreKeys(redis: SyncRedis): StoreKeysResolver {
  let keys: StoreKeys | null = null;
  const named = (id: string, tag: string): StoreKeys => ({ libraries: `${LIBRARIES_KEY}:${id}:${tag}`, positions: `${STREAM_POSITIONS_KEY}:${id}:${tag}` });
  const lookUp = (findExisting: boolean): StoreKeys | null => {
    const nodes = text(redis.call(['CLUSTER', 'NODES'], STORE_DB));
    const id = myNodeId(nodes);
    const slot = lowestServedSlot(nodes);
    if (id === null || slot === null) return null;
    const existing = findExisting ? existingTag(redis, `${LIBRARIES_KEY}:${id}:`) : null;
    return named(id, existing ?? `{${slotTag(slot)}}`);
  };
  return {
    keys: () => (keys ??= lookUp(true)),
    relocate: () => (keys = lookUp(false)),
  };
}

/** The `{tag}` of this node's libraries key if the node holds one (SCAN sees only the node's own keys). */
function existingTag(redis: SyncRedis, prefix: string): string | null {
  let cursor = '0';
  do {
    const reply = redis.call(['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '10000'], STORE_DB);
    if (reply.type !== 'array') return null;
    const [next, found] = reply.value;
    cursor = text(next);
    const first = found?.type === 'array' ? found.value[0] : undefined;
    if (first) return text(first).slice(prefix.length);
  } while (cursor !== '0');
  return null;
}
