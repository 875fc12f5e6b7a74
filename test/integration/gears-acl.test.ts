/**
 * RedisGears' identity rules (§3.6, test_acl.py) on a backing redis-server with ACL users: a function's calls
 * run as the calling connection's user, a trigger's as the library owner's; TFUNCTION LOAD/DELETE need the
 * rights of FUNCTION LOAD/DELETE, TFCALL/TFCALLASYNC those of FCALL (keys included).
 */
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startRuntime, type StartedRuntime } from '../helpers/runtime.js';
import { connectTestClient, type TestClient } from '../helpers/redis-client.js';
import { eventually, errorOf, lib } from './gears-support.js';

const NO_KEY = 'NOPERM No permissions to access a key';

let redis: RedisServer;
let runtime: StartedRuntime;
let admin: TestClient;
let clients: TestClient[] = [];

/** A client of the runtime authenticated as `user` (password `pass`). */
function as(user: string): Promise<TestClient> {
  return connectTestClient(`redis://${user}:pass@127.0.0.1:${runtime.port}`, clients);
}

/** Sets a user up on the backing server directly, so the runtime has not seen it change. */
async function setUser(user: string, ...rules: string[]): Promise<void> {
  const direct = createClient({ url: redis.url });
  await direct.connect();
  await direct.sendCommand(['ACL', 'DELUSER', user]);
  await direct.sendCommand(['ACL', 'SETUSER', user, 'on', '>pass', ...rules]);
  await direct.quit();
}

async function library(name: string): Promise<Record<string, unknown>> {
  const list = (await admin.sendCommand(['TFUNCTION', 'LIST', 'vvv', 'LIBRARY', name])) as unknown[];
  return toRecord(list[0]);
}

/** RESP2 maps come as flat arrays: [k, v, k, v…]. */
function toRecord(value: unknown): Record<string, unknown> {
  if (!Array.isArray(value)) return value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < value.length; i += 2) out[String(value[i])] = value[i + 1];
  return out;
}

async function keyspaceTrigger(name: string): Promise<Record<string, unknown>> {
  return toRecord(((await library(name))['keyspace_triggers'] as unknown[])[0]);
}

const FUNCTIONS = lib(
  'fns',
  `redis.registerFunction('get', (c, key) => c.call('get', key));
redis.registerFunction('noop', () => 'ok');
redis.registerAsyncFunction('aget', async (c, key) => { await new Promise((resolve) => resolve(null)); return c.block((s) => s.call('get', key)); });`,
);
/** A capture-like trigger: every change of a person: key appends to a log outside person:*. */
const AUDIT = lib('audit', "redis.registerKeySpaceTrigger('audit', 'person:', (c, d) => { c.call('rpush', 'audit:log', d.key); });");

beforeAll(async () => {
  redis = await startRedisServer();
  runtime = await startRuntime(redis);
  admin = createClient({ url: runtime.url });
  await admin.connect();
}, 30_000);
afterAll(async () => {
  await admin.quit();
  await runtime.close();
  await redis.stop();
});
beforeEach(async () => {
  await setUser('alice', '~person:*', '+@all');
  await admin.set('other:1', 'secret');
  await admin.set('person:1', 'mine');
});
afterEach(async () => {
  // destroy, not quit: a client whose user was deleted is reconnecting and would never answer QUIT.
  for (const client of clients) client.destroy();
  clients = [];
  const list = (await admin.sendCommand(['TFUNCTION', 'LIST'])) as unknown[];
  for (const entry of list) await admin.sendCommand(['TFUNCTION', 'DELETE', toRecord(entry)['name'] as string]);
  await admin.flushAll();
});

describe("a function's calls run as the calling connection's user", () => {
  it("a user confined to ~person:* gets RedisGears' NOPERM text for another key; an admin runs the same function", async () => {
    const alice = await as('alice');
    expect(await alice.sendCommand(['TFUNCTION', 'LOAD', FUNCTIONS])).toBe('OK');
    expect(await errorOf(alice.sendCommand(['TFCALL', 'fns.get', '0', 'other:1']))).toBe(NO_KEY);
    expect(await alice.sendCommand(['TFCALL', 'fns.get', '0', 'person:1'])).toBe('mine');
    expect(await admin.sendCommand(['TFCALL', 'fns.get', '0', 'other:1'])).toBe('secret');
  });

  it('is checked after an await in an async function too', async () => {
    const alice = await as('alice');
    await admin.sendCommand(['TFUNCTION', 'LOAD', FUNCTIONS]);
    expect(await errorOf(alice.sendCommand(['TFCALLASYNC', 'fns.aget', '0', 'other:1']))).toBe(NO_KEY);
    expect(await alice.sendCommand(['TFCALLASYNC', 'fns.aget', '0', 'person:1'])).toBe('mine');
    expect(await admin.sendCommand(['TFCALLASYNC', 'fns.aget', '0', 'other:1'])).toBe('secret');
  });

  it('follows AUTH on the connection: the default user before it, alice after', async () => {
    await admin.sendCommand(['TFUNCTION', 'LOAD', FUNCTIONS]);
    const client = await connectTestClient(runtime.url, clients);
    expect(await client.sendCommand(['TFCALL', 'fns.get', '0', 'other:1'])).toBe('secret');
    await client.sendCommand(['AUTH', 'alice', 'pass']);
    expect(await errorOf(client.sendCommand(['TFCALL', 'fns.get', '0', 'other:1']))).toBe(NO_KEY);
  });
});

describe('TFUNCTION and TFCALL need the rights of FUNCTION and FCALL', () => {
  it('refuses them with NOAUTH to a client that has not authenticated once requirepass is set through the runtime', async () => {
    await admin.sendCommand(['TFUNCTION', 'LOAD', FUNCTIONS]);
    expect(await admin.sendCommand(['TFCALL', 'fns.noop', '0'])).toBe('ok');
    await admin.sendCommand(['CONFIG', 'SET', 'requirepass', 'adminpass']);
    try {
      const anonymous = await connectTestClient(runtime.url, clients);
      expect(await errorOf(anonymous.sendCommand(['TFCALL', 'fns.noop', '0']))).toBe('NOAUTH Authentication required.');
      expect(await errorOf(anonymous.sendCommand(['TFUNCTION', 'LIST']))).toBe('NOAUTH Authentication required.');
      await anonymous.sendCommand(['AUTH', 'adminpass']);
      expect(await anonymous.sendCommand(['TFCALL', 'fns.noop', '0'])).toBe('ok');
    } finally {
      await admin.sendCommand(['CONFIG', 'SET', 'requirepass', '']);
    }
  });


  it('refuses TFUNCTION LOAD and DELETE to a user without FUNCTION LOAD / DELETE, with the NOPERM text', async () => {
    await setUser('bob', '~*', '+@all', '-function|load', '-function|delete');
    const bob = await as('bob');
    const denied = "NOPERM User bob has no permissions to run the 'tfunction' command";
    expect(await errorOf(bob.sendCommand(['TFUNCTION', 'LOAD', FUNCTIONS]))).toBe(denied);
    await admin.sendCommand(['TFUNCTION', 'LOAD', FUNCTIONS]);
    expect(await errorOf(bob.sendCommand(['TFUNCTION', 'DELETE', 'fns']))).toBe(denied);
    expect(((await admin.sendCommand(['TFUNCTION', 'LIST'])) as unknown[]).length).toBe(1);
  });

  it('refuses TFCALL and TFCALLASYNC to a user without FCALL', async () => {
    await setUser('carol', '~*', '+@all', '-fcall');
    const carol = await as('carol');
    await admin.sendCommand(['TFUNCTION', 'LOAD', FUNCTIONS]);
    expect(await errorOf(carol.sendCommand(['TFCALL', 'fns.noop', '0']))).toBe("NOPERM User carol has no permissions to run the 'tfcall' command");
    expect(await errorOf(carol.sendCommand(['TFCALLASYNC', 'fns.noop', '0']))).toBe("NOPERM User carol has no permissions to run the 'tfcallasync' command");
  });

  it("refuses keys given to TFCALL outside the user's key patterns, even when the function never touches them", async () => {
    const alice = await as('alice');
    await admin.sendCommand(['TFUNCTION', 'LOAD', FUNCTIONS]);
    expect(await errorOf(alice.sendCommand(['TFCALL', 'fns.noop', '1', 'other:1']))).toBe(NO_KEY);
    expect(await alice.sendCommand(['TFCALL', 'fns.noop', '1', 'person:1'])).toBe('ok');
  });
});

describe("a trigger's calls run as the library owner", () => {
  it("a confined owner's trigger cannot write outside its keys: the failure shows in TFUNCTION LIST, the writer's HSET succeeds", async () => {
    const alice = await as('alice');
    await alice.sendCommand(['TFUNCTION', 'LOAD', AUDIT]);
    expect((await library('audit'))['user']).toBe('alice');
    // The admin writes: the trigger still runs as alice.
    expect(await admin.hSet('person:2', 'name', 'x')).toBe(1);
    const trigger = await keyspaceTrigger('audit');
    expect(trigger['num_failed']).toBe(1);
    expect(trigger['last_error']).toContain('No permissions to access a key');
    expect(await admin.lLen('audit:log')).toBe(0);
  });

  it('an admin-owned copy of the same trigger writes, whoever triggers it', async () => {
    await admin.sendCommand(['TFUNCTION', 'LOAD', AUDIT]);
    const alice = await as('alice');
    await alice.hSet('person:2', 'name', 'x');
    expect(await admin.lRange('audit:log', 0, -1)).toEqual(['person:2']);
    expect((await keyspaceTrigger('audit'))['num_failed']).toBe(0);
  });

  it("refuses to run a trigger for a key its owner cannot fully access, with RedisGears' text", async () => {
    const alice = await as('alice');
    await alice.sendCommand(['TFUNCTION', 'LOAD', lib('wide', "redis.registerKeySpaceTrigger('t', '', (c, d) => { c.call('get', d.key); });")]);
    await admin.set('other:2', 'x');
    const trigger = await keyspaceTrigger('wide');
    expect(trigger['num_failed']).toBe(1);
    expect(trigger['last_error']).toBe("User 'alice' has no permissions on key 'other:2', User does not have permissions on key.");
  });

  it('fails the trigger of an owner deleted through the runtime with "User does not exists or disabled"', async () => {
    const alice = await as('alice');
    await alice.sendCommand(['TFUNCTION', 'LOAD', AUDIT]);
    await admin.sendCommand(['ACL', 'DELUSER', 'alice']);
    await admin.hSet('person:9', 'name', 'x');
    expect((await keyspaceTrigger('audit'))['last_error']).toBe("User 'alice' has no permissions on key 'person:9', User does not exists or disabled.");
  });

  it("runs a stream trigger's calls as the owner", async () => {
    const alice = await as('alice');
    await alice.sendCommand(['TFUNCTION', 'LOAD', lib('st', "redis.registerStreamTrigger('s', 'person:s', (c) => { c.call('incr', 'counter'); });")]);
    await admin.xAdd('person:s1', '*', { f: 'v' });
    await eventually(async () => {
      const streams = toRecord(((await library('st'))['stream_triggers'] as unknown[])[0])['streams'] as unknown[];
      expect(toRecord(streams[0])['last_error']).toContain('No permissions to access a key');
    });
    expect(await admin.get('counter')).toBeNull();
  });
});

describe('the rights cache', () => {
  it('sees ACL SETUSER sent through the runtime at once, in both directions', async () => {
    await setUser('dave', '~*', '+@all');
    const dave = await as('dave');
    await admin.sendCommand(['TFUNCTION', 'LOAD', FUNCTIONS]);
    expect(await dave.sendCommand(['TFCALL', 'fns.get', '0', 'other:1'])).toBe('secret');
    await admin.sendCommand(['ACL', 'SETUSER', 'dave', 'resetkeys', '~person:*']);
    expect(await errorOf(dave.sendCommand(['TFCALL', 'fns.get', '0', 'other:1']))).toBe(NO_KEY);
    await admin.sendCommand(['ACL', 'SETUSER', 'dave', 'allkeys']);
    expect(await dave.sendCommand(['TFCALL', 'fns.get', '0', 'other:1'])).toBe('secret');
  });
});

describe('a runtime restart', () => {
  it('keeps the owner: the restored trigger still runs as alice', async () => {
    const alice = await as('alice');
    await alice.sendCommand(['TFUNCTION', 'LOAD', AUDIT]);
    for (const client of clients) await client.quit();
    clients = [];
    await admin.quit();
    await runtime.close();
    runtime = await startRuntime(redis);
    admin = createClient({ url: runtime.url });
    await admin.connect();
    expect((await library('audit'))['user']).toBe('alice');
    await admin.hSet('person:3', 'name', 'x');
    expect((await keyspaceTrigger('audit'))['num_failed']).toBe(1);
    expect(await admin.lLen('audit:log')).toBe(0);
  });
});
