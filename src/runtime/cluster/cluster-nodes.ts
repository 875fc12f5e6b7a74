/**
 * What the runtime reads from its redis-server's cluster view besides CLUSTER NODES (src/shared/cluster-nodes.ts):
 * whether cluster mode is on (INFO cluster) and the other nodes to send a library to (CLUSTER SHARDS). With `cluster-announce-port` pointing at each runtime, the addresses Redis gives are the
 * runtimes' (docs/scale-out.md, the runtime on a cluster).
 */
import type { RespValue } from '../resp/types.js';

export interface ClusterPeer {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** A primary (else a replica). */
  readonly primary: boolean;
}

/** `cluster_enabled:1` in the text of `INFO cluster`. */
export function isClusterEnabled(infoCluster: string): boolean {
  return /^cluster_enabled:1\s*$/m.test(infoCluster);
}

/**
 * The nodes of CLUSTER SHARDS (RESP2 or RESP3 reply) other than `myId`, at the address each announces:
 * primaries and replicas (a replica's runtime holds the libraries too, as RedisGears replicates a load).
 */
export function otherNodes(shards: RespValue, myId: string): ClusterPeer[] {
  const peers: ClusterPeer[] = [];
  for (const shard of items(shards)) {
    for (const node of items(field(shard, 'nodes'))) {
      const id = text(field(node, 'id'));
      if (id === myId) continue;
      const host = text(field(node, 'ip')) || text(field(node, 'endpoint'));
      const port = Number(integer(field(node, 'port')));
      if (host && port > 0) peers.push({ id, host, port, primary: text(field(node, 'role')) === 'master' });
    }
  }
  return peers;
}

function items(value: RespValue | undefined): RespValue[] {
  return value && (value.type === 'array' || value.type === 'set') ? value.value : [];
}

/** A field of a RESP3 map or of RESP2's flat name/value array. */
function field(value: RespValue, name: string): RespValue | undefined {
  if (value.type === 'map') return value.value.find(([key]) => text(key) === name)?.[1];
  const flat = items(value);
  for (let i = 0; i + 1 < flat.length; i += 2) if (text(flat[i]!) === name) return flat[i + 1];
  return undefined;
}

export function text(value: RespValue | undefined): string {
  if (!value) return '';
  if (value.type === 'blob' || value.type === 'verbatim') return value.value.toString('utf8');
  if (value.type === 'simple') return value.value;
  return '';
}

function integer(value: RespValue | undefined): number | bigint {
  if (value?.type === 'integer') return value.value;
  return Number(text(value));
}
