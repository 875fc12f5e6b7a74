/**
 * Before the runtime starts on a redis-server (runtime, start), that server must answer with the URL's
 * credentials: a wrong password, a closed port or a listener that never answers then fails in seconds, with
 * the URL (password redacted) and the cause, instead of leaving a runtime that never listens.
 */
import { connectRedis } from '../../shared/redis-connect.js';

export interface BackingRedis {
  /** `cluster_enabled:1`: the server is a Redis Cluster node (one runtime per shard, docs/scale-out.md). */
  readonly clusterNode: boolean;
}

export async function checkBackingRedis(url: string): Promise<BackingRedis> {
  const client = await connectRedis(url, { suggestion: 'start redis-server there (the runtime fronts a plain redis-server), or fix --redis / REDIS_URL and its password' });
  try {
    const info = String(await client.sendCommand(['INFO', 'cluster']));
    return { clusterNode: /^cluster_enabled:1\s*$/m.test(info) };
  } finally {
    await client.close();
  }
}
