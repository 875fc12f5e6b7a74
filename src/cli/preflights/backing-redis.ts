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

/**
 * `urlFrom`: where the command takes the URL, for the hint (`--redis / REDIS_URL` for start; `--redis` alone for
 * runtime, whose server behind it never comes from REDIS_URL: that names the runtime itself to other commands).
 */
export async function checkBackingRedis(url: string, urlFrom: string): Promise<BackingRedis> {
  const client = await connectRedis(url, { suggestion: `start redis-server there (the runtime fronts a plain redis-server), or fix ${urlFrom} and its password` });
  try {
    const info = String(await client.sendCommand(['INFO', 'cluster']));
    return { clusterNode: /^cluster_enabled:1\s*$/m.test(info) };
  } finally {
    await client.close();
  }
}
