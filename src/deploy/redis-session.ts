/**
 * One short-lived node-redis connection for a deploy step: connects without retrying (a wrong URL should fail
 * at once, not hang), runs the step, and always closes.
 */
import { createClient } from 'redis';
import { DeployError } from '../shared/errors.js';

export type RedisSession = ReturnType<typeof createClient>;

export async function withRedis<T>(redisUrl: string, step: (client: RedisSession) => Promise<T>): Promise<T> {
  const client = createClient({ url: redisUrl, socket: { reconnectStrategy: false, connectTimeout: 5000 } });
  // node-redis emits connection errors as events; the rejected connect() below carries them to the caller.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (cause) {
    throw new DeployError(`cannot connect to Redis at ${redisUrl}`, { cause, context: { redisUrl, suggestion: 'start the runtime (writebehind runtime) or pass --redis / REDIS_URL' } });
  }
  try {
    return await step(client);
  } finally {
    await client.close().catch(() => undefined);
  }
}
