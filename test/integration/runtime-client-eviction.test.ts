/**
 * Redis 7's client eviction (`maxmemory-clients`) closes the clients that take the most memory once all of them
 * together take more than the limit. A burst of changes to watched keys (one script) queues all its keyspace
 * messages on the runtime's subscription at once, which makes it the biggest client: evicted, no trigger could
 * fire and the runtime closed. Its subscription is marked `CLIENT NO-EVICT ON`.
 * Found running Redis's own Tcl suite (unit/maxmemory, tag lifted, sets maxmemory-clients).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { useRuntimeWithTestHost } from '../helpers/runtime.js';
import { RespSocket } from '../helpers/resp-socket.js';
import { until } from '../helpers/until.js';

const env = useRuntimeWithTestHost({ flush: true });

async function call(port: number, ...args: string[]): Promise<string> {
  const socket = await RespSocket.open(port);
  socket.send(args);
  const reply = await socket.readBytes(1, 20_000);
  socket.close();
  return reply;
}

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
});
