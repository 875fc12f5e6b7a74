import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startRuntime } from '../helpers/runtime.js';
import { lib } from './gears-support.js';
import { monitored as monitorServer } from '../helpers/monitor.js';

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

/** redis-server's MONITOR lines while `work` runs. */
const monitored = (work: () => Promise<void>) => monitorServer(redis.url, work);

describe('persistence across a runtime restart (§2.4 Persistence, §1.4)', () => {
  it('writes stream positions at most every 20 ms however fast entries come, and the last one soon after', async () => {
    const code = lib('pace', "redis.registerStreamTrigger('s', 'pace:', () => {}); redis.registerFunction('add', (c, n) => { c.call('xadd', 'pace:1', '*', 'n', n); });");
    await withRuntime(async (client) => {
      await client.sendCommand(['TFUNCTION', 'LOAD', 'REPLACE', code]);
      try {
        const ENTRIES = 200;
        let elapsedMs = 0;
        const lines = await monitored(async () => {
          const started = performance.now();
          for (let i = 0; i < ENTRIES; i++) await client.sendCommand(['TFCALL', 'pace.add', '0', String(i)]);
          elapsedMs = performance.now() - started;
          // The last position is written within 20 ms; MONITOR lines come over their own socket.
          await new Promise((resolve) => setTimeout(resolve, 200));
        });
        const saves = lines.filter((line) => line.includes('stream-positions'));
        expect(saves.length).toBeGreaterThan(0);
        expect(saves.length).toBeLessThanOrEqual(Math.ceil(elapsedMs / 20) + 2);
        const last = await client.xRevRange('pace:1', '+', '-', { COUNT: 1 });
        // The position is where reading resumes: the id right after the last acknowledged entry.
        const [ms, seq] = last[0]!.id.split('-');
        expect(saves.at(-1)).toMatch(new RegExp(`"${ms}-${Number(seq) + 1}"$`));
      } finally {
        await client.sendCommand(['TFUNCTION', 'DELETE', 'pace']);
      }
    });
  });

  it('streams that appear while no runtime runs (XADD, RENAME) are read from their start when it starts; a read one after its position', async () => {
    // RedisGears after an RDB load: the aux data gives the positions, then scan_key_space_for_streams reads every stream.
    const code = lib('boot', "redis.registerStreamTrigger('s', 'boot:', (c, d) => { c.call('rpush', 'boot-seen', d.stream_name + '/' + d.id.join('-')); });");
    await withRuntime(async (client) => {
      await client.sendCommand(['TFUNCTION', 'LOAD', code]);
      await client.xAdd('boot:read', '1-1', { v: '1' });
    });
    const direct = createClient({ url: redis.url });
    await direct.connect();
    try {
      await direct.xAdd('boot:read', '2-1', { v: '2' });
      await direct.xAdd('boot:new', '1-1', { v: '1' });
      await direct.xAdd('unwatched:boot', '3-1', { v: '3' });
      await direct.rename('unwatched:boot', 'boot:renamed');
      await withRuntime(async (client) => {
        expect((await client.lRange('boot-seen', 0, -1)).sort()).toEqual(['boot:new/1-1', 'boot:read/1-1', 'boot:read/2-1', 'boot:renamed/3-1']);
        await client.sendCommand(['TFUNCTION', 'DELETE', 'boot']);
      });
    } finally {
      await direct.del(['boot:read', 'boot:new', 'boot:renamed', 'boot-seen']);
      await direct.quit();
    }
  });

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
