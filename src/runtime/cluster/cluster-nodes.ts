/**
 * What the runtime reads from its redis-server's cluster view: whether cluster mode is on (INFO cluster), the
 * slots this node serves (CLUSTER NODES, the `myself` line) and the other primaries to send a library to
 * (CLUSTER SHARDS). With `cluster-announce-port` pointing at each runtime, the addresses Redis gives are the
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

/** The node id of the `myself` line of CLUSTER NODES, or null. */
export function myNodeId(clusterNodes: string): string | null {
  return myselfLine(clusterNodes)?.split(' ')[0] ?? null;
}

/** The node id of the primary the `myself` line of CLUSTER NODES replicates, or null when it is no replica. */
export function myPrimaryId(clusterNodes: string): string | null {
  const [, , flags, primary] = myselfLine(clusterNodes)?.split(' ') ?? [];
  return flags?.split(',').includes('slave') && primary !== undefined && primary !== '-' ? primary : null;
}

/** The ids of the nodes of CLUSTER NODES that serve at least one slot. */
export function servingNodeIds(clusterNodes: string): Set<string> {
  const serving = new Set<string>();
  for (const line of clusterNodes.split('\n')) {
    const fields = line.trim().split(' ');
    if (fields.slice(8).some((field) => !field.startsWith('['))) serving.add(fields[0]!);
  }
  return serving;
}

/** The `myself` line of CLUSTER NODES (the node that answered), if any. */
export function myselfLine(clusterNodes: string): string | undefined {
  return clusterNodes.split('\n').find((line) => line.split(' ')[2]?.split(',').includes('myself'));
}

/** The lowest slot the `myself` line of CLUSTER NODES serves (migrating/importing markers ignored), or null. */
export function lowestServedSlot(clusterNodes: string): number | null {
  const myself = myselfLine(clusterNodes);
  if (!myself) return null;
  let lowest: number | null = null;
  for (const field of myself.trim().split(' ').slice(8)) {
    if (field.startsWith('[')) continue;
    const first = Number(field.split('-')[0]);
    if (Number.isInteger(first) && (lowest === null || first < lowest)) lowest = first;
  }
  return lowest;
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
