/**
 * A lease deleted while its holder runs (an operator's DEL, a FLUSHALL sent straight to redis-server) and taken at
 * once by a second runtime (runtime/runtime-lease.ts): the first one's last refresh is recent, so by the clock its
 * lease is surely still its own, and until its next refresh (up to a second) it would fire every trigger the
 * second one fires: each write straight on redis-server in that second captured twice. The first runtime sees the
 * lease key's keyspace events on its subscription, ahead of the events of any write made after them, and confirms
 * its lease before it fires again: it learns it lost and fires nothing.
 *
 * Each test acts right after the first runtime's refresh (its PEXPIRE raises `expire` on the lease key, which the
 * test subscribes to), so that its next refresh, which would find the other holder by itself, is a second away:
 * what the first runtime does with the write is then decided by the events alone, not by when its timer runs. The
 * first test checks that it was so (the first runtime learned it lost after the write), and fails loudly otherwise.
 */
import { createClient } from 'redis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RUNTIME_LEASE_KEY } from '../../src/shared/keys.js';
import { lib, eventually } from './gears-support.js';
import { startHeldProxy, type HeldProxy } from '../helpers/held-proxy.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startRuntimeProcess, type RuntimeProcess } from '../helpers/runtime-process.js';

const COUNTER = lib('takeovercount', "redis.registerKeySpaceTrigger('seen', 'takeover:', (c, e) => { c.call('rpush', 'seen', e.key); });");

let redis: RedisServer;
let direct: ReturnType<typeof createClient>;
let watcher: ReturnType<typeof createClient>;
let proxy: HeldProxy | undefined;
const started: RuntimeProcess[] = [];

beforeEach(async () => {
  redis = await startRedisServer();
  direct = createClient({ url: redis.url });
  await direct.connect();
  watcher = direct.duplicate();
  await watcher.connect();
});

afterEach(async () => {
  for (const runtime of started.splice(0)) await runtime.close();
  await proxy?.close();
  proxy = undefined;
  await watcher?.quit().catch(() => undefined);
  await direct?.quit().catch(() => undefined);
  await redis?.stop();
});

async function startFirst(): Promise<RuntimeProcess> {
  const first = await startRuntimeProcess(redis);
  started.push(first);
  const client = createClient({ url: first.url });
  await client.connect();
  await client.sendCommand(['TFUNCTION', 'LOAD', COUNTER]);
  await client.quit();
  return first;
}

/** Resolves at the first runtime's next refresh of its lease (the `expire` its PEXPIRE raises). */
async function nextRefresh(): Promise<void> {
  const channel = `__keyspace@0__:${RUNTIME_LEASE_KEY}`;
  const seen = new Promise<void>((resolve) => {
    void watcher.subscribe(channel, (event) => {
      if (event === 'expire') resolve();
    });
  });
  await seen;
  await watcher.unsubscribe(channel);
}

/** The first runtime's end: it learns another holds its lease and closes (exit 1), at a refresh or before firing. */
async function lostBy(first: RuntimeProcess): Promise<number | null | string> {
  return Promise.race([first.exited(), new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 5000))]);
}

describe('a lease deleted while its holder runs, taken at once by a second runtime', () => {
  it('after a DEL straight on redis-server: a write straight on redis-server is captured once (by the second runtime), and the first closes', async () => {
    const first = await startFirst();
    // The second runtime, started now but held at its first connection: it takes the lease as soon as it is let go.
    proxy = await startHeldProxy({ host: '127.0.0.1', port: redis.port });
    const secondStart = startRuntimeProcess({ ...redis, url: proxy.url });
    await proxy.connected;
    await nextRefresh();
    await direct.del(RUNTIME_LEASE_KEY);
    proxy.release();
    const second = await secondStart;
    started.push(second);
    expect(await direct.get(RUNTIME_LEASE_KEY)).toContain(`pid ${second.pid}`);
    const written = Date.now();
    await direct.hSet('takeover:direct', 'a', '1');
    expect(await lostBy(first)).toBe(1);
    // Not a check of the runtime: had the first one's refresh found the other holder before the write (the second
    // one slow to start), the test would test nothing.
    expect(lostAt(first), 'the second runtime started too slowly for this test').toBeGreaterThanOrEqual(written);
    await eventually(async () => expect(await direct.lRange('seen', 0, -1)).toContain('takeover:direct'));
    expect(await direct.lRange('seen', 0, -1)).toEqual(['takeover:direct']);
  });

  it('after a FLUSHALL straight on redis-server and the lease taken (its SET, as a runtime takes it): the first fires nothing for a write after, and closes', async () => {
    const first = await startFirst();
    const other = `pid 4242 on host elsewhere, port 6380 [server ${await runIdOf(direct)}]`;
    await nextRefresh();
    // FLUSHALL raises no keyspace event; the other runtime's take is the SET … NX PX of runtime-lease.ts.
    await direct.multi().flushAll().set(RUNTIME_LEASE_KEY, other, { NX: true, PX: 60_000 }).exec();
    await direct.hSet('takeover:direct', 'a', '1');
    expect(await lostBy(first)).toBe(1);
    expect(first.output()).toMatch(/pid 4242 on host elsewhere/);
    expect(await direct.lRange('seen', 0, -1)).toEqual([]);
  });
});

/** When (ms since the epoch) the runtime logged that another runtime holds its lease. */
function lostAt(runtime: RuntimeProcess): number {
  const line = runtime.output().split('\n').find((text) => text.includes('another runtime holds the lease'));
  expect(line, runtime.output()).toBeDefined();
  return Date.parse((JSON.parse(line!) as { time: string }).time);
}

async function runIdOf(client: ReturnType<typeof createClient>): Promise<string> {
  return /run_id:(\w+)/.exec(await client.info('server'))![1]!;
}
