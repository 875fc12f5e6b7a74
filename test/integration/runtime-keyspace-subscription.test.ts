/**
 * The runtime's keyspace subscription covers the prefixes its libraries' triggers watch, and nothing else but
 * the runtime's own keys (`__writebehind_runtime__:`, its library store: docs/runtime.md, pass-through): a write of an unwatched key costs redis-server no message to the runtime, a
 * library loaded later is subscribed before its load is acknowledged, a deleted one's prefixes are dropped.
 * Writes here go to redis-server directly, bypassing the runtime: the subscription is the runtime's only view of
 * them. What the server sends is read from `INFO stats` `total_net_output_bytes` (redis-server 7.0 has no
 * per-client output counter): a `+OK` per SET, and about 70 bytes more per SET if a message is published.
 */
import { createClient } from 'redis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventually, lib, load, type Client } from './gears-support.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startRuntime, type StartedRuntime } from '../helpers/runtime.js';

const WRITES = 1000;
/** Bytes the server may send besides the writes' `+OK`s: the INFO reply read between the two counts. */
const INFO_REPLY_BYTES = 5000;

let redis: RedisServer;
let runtime: StartedRuntime;
let client: Client;
let direct: Client;

beforeAll(async () => {
  redis = await startRedisServer();
  runtime = await startRuntime(redis);
  client = createClient({ url: runtime.url });
  direct = createClient({ url: `redis://127.0.0.1:${redis.port}` });
  await client.connect();
  await direct.connect();
}, 30_000);

afterAll(async () => {
  await client?.quit().catch(() => undefined);
  await direct?.quit().catch(() => undefined);
  await runtime?.close();
  await redis?.stop();
});

beforeEach(async () => {
  const libraries = (await client.sendCommand(['TFUNCTION', 'LIST'])) as unknown[][];
  for (const library of libraries) {
    const name = library[library.indexOf('name') + 1] as string;
    await client.sendCommand(['TFUNCTION', 'DELETE', name]);
  }
  await direct.flushAll();
});

async function outputBytes(): Promise<number> {
  const info = await direct.info('stats');
  return Number(/total_net_output_bytes:(\d+)/.exec(info)![1]);
}

/** What redis-server sends, beyond each SET's `+OK`, while `WRITES` SETs of `key(i)` are sent to it directly. */
async function extraBytesOfWrites(key: (i: number) => string): Promise<number> {
  const before = await outputBytes();
  await Promise.all(Array.from({ length: WRITES }, (_, i) => direct.set(key(i), 'v')));
  return (await outputBytes()) - before - WRITES * '+OK\r\n'.length;
}

describe('the keyspace subscription follows the loaded triggers', () => {
  it('a write of a key no trigger watches sends the runtime nothing (a prefix glob character matches only itself)', async () => {
    await load(client, lib('watch', `
      redis.registerKeySpaceTrigger('t', 'watched*', (c, d) => { c.call('incr', 'fired'); });
      redis.registerStreamTrigger('s', 'stream:', (c) => {});`));
    expect(await extraBytesOfWrites((i) => `plain:${i}`)).toBeLessThan(INFO_REPLY_BYTES);
    expect(await extraBytesOfWrites((i) => `watchedX${i}`)).toBeLessThan(INFO_REPLY_BYTES);
    // The measure sees messages when there are: the watched prefix's writes cost one each, and fire.
    expect(await extraBytesOfWrites((i) => `watched*${i}`)).toBeGreaterThan(WRITES * 30);
    await eventually(async () => expect(await client.get('fired')).toBe(String(WRITES)), 30_000);
  });

  it('a library loaded while writes go on fires for every write after its load was acknowledged', async () => {
    let sent = 0;
    let firstAfterLoad: number | null = null;
    let stop = false;
    const writer = (async () => {
      while (!stop) await direct.set(`late:${sent++}`, 'v');
    })();
    try {
      await eventually(() => expect(sent).toBeGreaterThan(50), 10_000);
      await load(client, lib('late', "redis.registerKeySpaceTrigger('t', 'late:', (c, d) => { c.call('sadd', 'fired', d.key); });"));
      firstAfterLoad = sent;
      await eventually(() => expect(sent).toBeGreaterThan(firstAfterLoad! + 200), 20_000);
    } finally {
      stop = true;
      await writer;
    }
    const last = sent - 1;
    await eventually(async () => expect(await direct.sIsMember('fired', `late:${last}`)).toBeTruthy(), 30_000);
    const fired = new Set(await direct.sMembers('fired'));
    const missed = [];
    for (let i = firstAfterLoad!; i <= last; i++) if (!fired.has(`late:${i}`)) missed.push(i);
    expect(missed).toEqual([]);
  }, 90_000);

  it('a deleted library’s prefixes stop costing anything; PUBSUB NUMPAT through the runtime counts none of the runtime’s patterns', async () => {
    await load(client, lib('gone', "redis.registerKeySpaceTrigger('t', 'gone:', () => {}); redis.registerKeySpaceTrigger('u', 'also:', () => {});"));
    // Its two prefixes, and the runtime's own keys' (its library store is written again when a key of it goes away).
    expect(await direct.sendCommand(['PUBSUB', 'NUMPAT'])).toBe(3);
    expect(await client.sendCommand(['PUBSUB', 'NUMPAT'])).toBe(0);
    expect(await extraBytesOfWrites((i) => `gone:${i}`)).toBeGreaterThan(WRITES * 30);
    await client.sendCommand(['TFUNCTION', 'DELETE', 'gone']);
    await eventually(async () => expect(await direct.sendCommand(['PUBSUB', 'NUMPAT'])).toBe(1));
    expect(await extraBytesOfWrites((i) => `gone:${i}`)).toBeLessThan(INFO_REPLY_BYTES);
  });

  it('a key under two watched prefixes fires each trigger once', async () => {
    await load(client, lib('both', `
      redis.registerKeySpaceTrigger('short', 'ov:', (c) => { c.call('incr', 'short'); });
      redis.registerKeySpaceTrigger('long', 'ov:x', (c) => { c.call('incr', 'long'); });`));
    await direct.set('ov:x1', 'v');
    await direct.set('ov:y1', 'v');
    await client.set('ov:x2', 'v');
    await eventually(async () => expect([await client.get('short'), await client.get('long')]).toEqual(['3', '2']), 10_000);
  });
});
