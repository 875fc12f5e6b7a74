/**
 * Whether the library runs on a node of a Redis Cluster. There a writer's capture is partitioned per slot
 * whatever its `partitions` (docs/scale-out.md: on a cluster a partition is a slot), so every key's changes
 * are captured into a stream in the key's own slot, on the key's shard, and move with it.
 *
 * RedisGears hands the library no client at load time, so the answer is asked of Redis (`INFO cluster`) on the
 * first event or call that needs it, and kept: a server cannot change its cluster mode without a restart, which
 * loads the library afresh.
 */
import { decodeUtf8 } from './bytes.js';
import { myselfOf } from '../src/shared/cluster-nodes.js';

let clusterMode: boolean | undefined;

export function isClusterMode(client: GearsClient): boolean {
  if (clusterMode === undefined) {
    const reply = client.call('INFO', 'cluster');
    clusterMode = /cluster_enabled:1/.test(reply instanceof ArrayBuffer ? (decodeUtf8(reply) ?? '') : String(reply));
  }
  return clusterMode;
}

/**
 * Whether a Redis error says the key's slot is not served here (any more): `MOVED`/`ASK` (the slot left this
 * node, or is leaving it) or RedisGears' "non local key". What a capture meets when a migration moved the
 * hash together with its capture stream before the capture ran.
 */
export function isSlotElsewhere(error: unknown): boolean {
  const message = String(error);
  return message.startsWith('MOVED ') || message.startsWith('ASK ') || message.includes('non local key');
}

/**
 * Whether this node is importing `slot` (`CLUSTER SETSLOT <slot> IMPORTING`, not yet `NODE`): its own line of
 * `CLUSTER NODES` (the `myself` one, the only line Redis prints migration states on) carries `[<slot>-<-<id>]`.
 * Asked only when a capture met MOVED/ASK: then a write to a key of the slot ran here although the library's own
 * calls are redirected, which on an importing node means a client sent it with `ASKING` (docs/scale-out.md,
 * slot migration). False when the answer cannot be had.
 */
export function isImportingHere(client: GearsClient, slot: number): boolean {
  let reply: unknown;
  try {
    reply = client.call('CLUSTER', 'NODES');
  } catch {
    return false;
  }
  const text = reply instanceof ArrayBuffer ? (decodeUtf8(reply) ?? '') : String(reply);
  return myselfOf(text)?.importing.has(slot) ?? false;
}
