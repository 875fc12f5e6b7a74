/**
 * The set-up of the scenarios that measure reading a capture backlog without the runtime: a redis-server of
 * their own, the worker's stream client on it, and `rows` capture records already in `stream` before anything
 * is timed. The measurement gets both; the client and the server are closed after it, whatever happens.
 */
import { RedisStreamClient } from '../../src/worker/redis/redis-stream-client.js';
import { loadCaptureRecords } from './capture-records.js';
import { startRedisServerProcess, type RedisServerProcess } from './redis-server-process.js';

export async function withStreamBacklog<T>(stream: string, rows: number, label: string, measure: (client: RedisStreamClient, redis: RedisServerProcess) => Promise<T>): Promise<T> {
  const redis = await startRedisServerProcess();
  try {
    const client = await RedisStreamClient.connect(redis.url);
    try {
      await loadCaptureRecords(client, stream, rows, label);
      return await measure(client, redis);
    } finally {
      await client.close();
    }
  } finally {
    await redis.close();
  }
}
