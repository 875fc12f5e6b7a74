/**
 * The primaries of the Redis Cluster a deploy talks to, so it can check that the library reached every shard
 * (RedisGears loads on all shards in cluster mode; on Redis Stack only once `REDISGEARS_2.REFRESHCLUSTER` has
 * been sent to every shard). Null when the server is not a cluster node.
 */
import type { RedisSession } from './redis-session.js';

export async function clusterPrimaryUrls(client: RedisSession, redisUrl: string): Promise<string[] | null> {
  const info = String(await client.sendCommand(['INFO', 'cluster']));
  if (!/^cluster_enabled:1\s*$/m.test(info)) return null;
  const shards = await client.sendCommand(['CLUSTER', 'SHARDS']);
  const urls: string[] = [];
  for (const shard of asArray(shards)) {
    for (const node of asArray(field(shard, 'nodes'))) {
      if (String(field(node, 'role')) !== 'master') continue;
      const url = new URL(redisUrl);
      url.hostname = String(field(node, 'ip') ?? field(node, 'endpoint'));
      url.port = String(field(node, 'port'));
      urls.push(url.toString());
    }
  }
  return urls;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A field of RESP2's flat name/value array (node-redis' default protocol) or of a RESP3 map. */
function field(value: unknown, name: string): unknown {
  if (value instanceof Map) return value.get(name);
  const flat = asArray(value);
  for (let i = 0; i + 1 < flat.length; i += 2) if (String(flat[i]) === name) return flat[i + 1];
  return undefined;
}
