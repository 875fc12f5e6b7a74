import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startRuntime } from '../helpers/runtime.js';
import { lib } from './gears-support.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
}, 30_000);
afterAll(() => redis.stop());

async function withRuntime(work: (client: ReturnType<typeof createClient>) => Promise<void>): Promise<void> {
  const runtime = await startRuntime(redis);
  const client = createClient({ url: runtime.url, RESP: 3 });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.quit();
    await runtime.close();
  }
}

describe('persistence across a runtime restart (§2.4 Persistence, §1.4)', () => {
  it('reloads libraries with their config and resumes streams after the last acknowledged entry', async () => {
    const code = lib('lib', "redis.registerStreamTrigger('s', 'p:', (c, d) => { c.call('rpush', 'seen', d.record[0][1]); }); redis.registerFunction('cfg', () => redis.config.x);");
    await withRuntime(async (client) => {
      await client.sendCommand(['TFUNCTION', 'LOAD', 'CONFIG', '{"x":"y"}', code]);
      await client.xAdd('p:1', '*', { v: '1' });
    });
    // Written while no runtime runs: read once the runtime is back, the first entry is not read again.
    const direct = createClient({ url: redis.url });
    await direct.connect();
    await direct.xAdd('p:1', '*', { v: '2' });
    await withRuntime(async (client) => {
      expect(await client.sendCommand(['TFCALL', 'lib.cfg', '0'])).toBe('y');
      expect(await client.lRange('seen', 0, -1)).toEqual(['1', '2']);
      // FLUSHALL drops stream positions but RedisGears keeps libraries.
      await client.flushAll();
      expect(await client.sendCommand(['TFCALL', 'lib.cfg', '0'])).toBe('y');
    });
    await withRuntime(async (client) => {
      expect(await client.sendCommand(['TFCALL', 'lib.cfg', '0'])).toBe('y');
      await client.sendCommand(['TFUNCTION', 'DELETE', 'lib']);
    });
    await withRuntime(async (client) => {
      expect(await client.sendCommand(['TFUNCTION', 'LIST'])).toEqual([]);
    });
    await direct.quit();
  });
});
