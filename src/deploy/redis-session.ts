/**
 * One short-lived node-redis connection for a deploy step: connects without retrying and with a deadline (a
 * wrong URL or password fails at once, see connectRedis), runs the step, and always closes.
 */
import { connectRedis, type NodeRedisClient } from '../shared/redis-connect.js';

export type RedisSession = NodeRedisClient;

export async function withRedis<T>(redisUrl: string, step: (client: RedisSession) => Promise<T>): Promise<T> {
  const client = await connectRedis(redisUrl, { suggestion: 'start the runtime (writebehind runtime) or pass --redis / REDIS_URL, with the right password' });
  try {
    return await step(client);
  } finally {
    await client.close().catch(() => undefined);
  }
}
