/**
 * The runtime's store keys on a cluster node. `__writebehind_runtime__:libraries` has one slot, served by one
 * node only, so each node tags its store with a slot it serves (the lowest, from CLUSTER NODES) and keeps it
 * for its lifetime. A node serving no slot yet (a cluster still being created) has nowhere to store: asked
 * again on every use until it serves one. Limit (docs/scale-out.md): a store whose slot is resharded away moves
 * with it, and the node's next runtime start finds no libraries there.
 */
import { slotTag } from '../../shared/key-slot.js';
import { LIBRARIES_KEY, STORE_DB, STREAM_POSITIONS_KEY, type StoreKeys, type StoreKeysResolver } from '../library-host/library-store.js';
import type { SyncRedis } from '../sync-redis/sync-redis.js';
import { lowestServedSlot, text } from './cluster-nodes.js';

export function clusterStoreKeys(redis: SyncRedis): StoreKeysResolver {
  let keys: StoreKeys | null = null;
  return () => {
    if (keys) return keys;
    const slot = lowestServedSlot(text(redis.call(['CLUSTER', 'NODES'], STORE_DB)));
    if (slot === null) return null;
    const tag = `{${slotTag(slot)}}`;
    keys = { libraries: `${LIBRARIES_KEY}:${tag}`, positions: `${STREAM_POSITIONS_KEY}:${tag}` };
    return keys;
  };
}
