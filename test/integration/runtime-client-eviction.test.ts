/**
 * Redis 7's client eviction (`maxmemory-clients`) closes the clients that take the most memory once all of them
 * together take more than the limit. A burst of changes to watched keys (one script) queues all its keyspace
 * messages on the runtime's subscription at once, which makes it the biggest client: evicted, no trigger could
 * fire and the runtime closed. And with a small limit the server evicts every client it may, the library host's
 * sync connection among them: a library call it was running failed, so the write's capture was lost (48 of 100
 * captured). Every connection of the runtime's own asks `CLIENT NO-EVICT ON` (handshake.ts).
 * Found running Redis's own Tcl suite (unit/maxmemory and unit/client-eviction, tags lifted, set maxmemory-clients).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startRuntime, useRuntimeWithTestHost } from '../helpers/runtime.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { RespSocket } from '../helpers/resp-socket.js';
import { until } from '../helpers/until.js';

const env = useRuntimeWithTestHost({ flush: true });

const call = RespSocket.call;

afterEach(async () => {
  await call(env.redis.port, 'CONFIG', 'SET', 'maxmemory-clients', '0');
});

describe('client eviction (maxmemory-clients) on the server behind the runtime', () => {
  it('does not evict the keyspace subscription when a burst of changes fills its output buffer', { timeout: 60_000 }, async () => {
    // The writer exempts itself, as the Tcl suite's client does: the server, over its limit with the subscription
    // exempt, evicts every other client it may (the runtime's control and sync connections are opened again).
    const writer = await RespSocket.open(env.redis.port);
    writer.send(['CLIENT', 'NO-EVICT', 'ON'], ['CONFIG', 'SET', 'maxmemory-clients', '2mb']);
    expect(await writer.readBytes(2)).toBe('+OK\r\n+OK\r\n');
    const before = env.host.keyspaceEvents.length;
    // 100,000 changes in one script: about 8 MB of keyspace messages queued at once.
    writer.send(['EVAL', 'for i = 1, 100000 do redis.call("SET", "trig:" .. i, i) end return 1', '0']);
    expect(await writer.readBytes(1, 20_000)).toBe(':1\r\n');
    writer.close();
    await until(async () => env.host.keyspaceEvents.length - before, (n) => n >= 100_000, 20_000);
    expect(env.host.keyspaceEvents.length - before).toBe(100_000);
    expect(await call(env.runtime.port, 'PING')).toBe('+PONG\r\n');
    const list = await call(env.redis.port, 'CLIENT', 'LIST');
    const subscription = list.split('\n').find((line) => line.includes(' name=writebehind-runtime-keyevents '));
    expect(subscription).toMatch(/ flags=\S*e/);
  });

  it("captures every write while the server evicts every client it may (maxmemory-clients 1): the runtime's own connections are exempt", { timeout: 60_000 }, async () => {
    const server = await startRedisServer();
    const runtime = await startRuntime(server);
    const direct = await RespSocket.open(server.port);
    const through = await RespSocket.open(runtime.port);
    try {
      const library = `#!js api_version=1.0 name=evict
redis.registerKeySpaceTrigger('capture', 'ev:w:', (client, data) => {
  if (data.event === 'hset') client.call('xadd', 'ev:log', '*', 'key', data.key);
});`;
      through.send(['CLIENT', 'NO-EVICT', 'ON'], ['TFUNCTION', 'LOAD', library]);
      expect(await through.readBytes(2)).toBe('+OK\r\n+OK\r\n');
      direct.send(['CLIENT', 'NO-EVICT', 'ON'], ['CONFIG', 'SET', 'maxmemory-clients', '1']);
      expect(await direct.readBytes(2)).toBe('+OK\r\n+OK\r\n');
      for (let i = 0; i < 100; i++) {
        through.send(['HSET', `ev:w:${i}`, 'f', 'v']);
        expect(await through.readBytes(1)).toBe(':1\r\n');
      }
      direct.send(['XLEN', 'ev:log'], ['INFO', 'stats']);
      const [length, stats] = await direct.read(2);
      expect(length!.raw.toString()).toBe(':100\r\n');
      expect(stats!.raw.toString()).toMatch(/evicted_clients:0\r\n/);
    } finally {
      direct.close();
      through.close();
      await runtime.close();
      await server.stop();
    }
  });
});
