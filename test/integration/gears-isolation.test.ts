/**
 * Libraries run in V8 isolates: nothing of the runtime's Node realm is reachable from any object a library
 * receives, and a hostile library (unhandled rejection, endless loop, memory bomb, deep recursion, a huge string,
 * a thrown value whose toString never returns) fails alone while the runtime keeps answering everyone else.
 *
 * Each probe reports "process" (or "require") when it reaches the host, "none" otherwise.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedisServer } from '../helpers/redis-server.js';
import { startRuntimeProcess } from '../helpers/runtime-process.js';
import { eventually, errorOf, lib, load, resetGears, stopGearsEnv, tfcall, type Client, type GearsEnv } from './gears-support.js';
import { createClient } from 'redis';
import { RespSocket } from '../helpers/resp-socket.js';

/** Small, so a memory bomb hits it fast; the default is RedisGears' 200 MB. */
const MEMORY_LIMIT_MB = 32;
const TERMINATED = 'Err Execution was terminated due to OOM or timeout';
const env = {} as GearsEnv;

beforeAll(async () => {
  const redis = await startRedisServer();
  // A process of its own: a library that wedged it must fail this file's checks, not hang the test process.
  const runtime = await startRuntimeProcess(redis, ['--memory-limit', String(MEMORY_LIMIT_MB)]);
  const resp3 = createClient({ url: runtime.url, RESP: 3 });
  const resp2 = createClient({ url: runtime.url });
  await resp3.connect();
  await resp2.connect();
  Object.assign(env, { redis, runtime, resp3, resp2, raw: await RespSocket.open(runtime.port) });
}, 30_000);
afterAll(() => stopGearsEnv(env));
beforeEach(() => resetGears(env));

/** Walks a value's prototype chain and tries each constructor's constructor (a Function) on `process`. */
const REACH = `
function reach(value) {
  const seen = [];
  for (let o = value; o !== null && o !== undefined && seen.length < 10; o = Object.getPrototypeOf(Object(o))) {
    seen.push(o);
    try {
      const F = o.constructor && o.constructor.constructor;
      if (typeof F !== 'function') continue;
      const found = F('return typeof process === "object" && process ? "process" : typeof require === "function" ? "require" : "none"')();
      if (found !== 'none') return found;
    } catch (e) {}
  }
  return 'none';
}
function reachAll(values) { return JSON.stringify(values.map(reach)); }`;

const none = (count: number) => JSON.stringify(Array(count).fill('none'));

describe('escape probes (nothing of the host is reachable)', () => {
  it('from this, redis, clients, thrown call errors, replies, ArrayBuffers, promises and resolvers', async () => {
    await load(env.resp3, lib('lib', `${REACH}
      redis.registerFunction('this', function () { return reachAll([this, globalThis]); });
      redis.registerFunction('redis', () => reachAll([redis, redis.log, redis.registerFunction, redis.config, redis.functionFlags]));
      redis.registerFunction('client', (c) => reachAll([c, c.call, c.callRaw, c.callAsync, c.executeAsync, c.isBlockAllowed]));
      redis.registerFunction('errors', (c) => {
        const thrown = [];
        try { c.call('NO_SUCH_COMMAND'); } catch (e) { thrown.push(e); }
        try { c.call(1); } catch (e) { thrown.push(e); }
        try { c.call('SET', {}); } catch (e) { thrown.push(e); }
        return reachAll(thrown);
      });
      redis.registerFunction('replies', (c) => {
        c.call('HSET', 'iso:h', 'a', '1');
        c.call('SADD', 'iso:s', 'a');
        return reachAll([c.call('HGETALL', 'iso:h'), c.call('SMEMBERS', 'iso:s'), c.call('HKEYS', 'iso:h'), c.callRaw('HGET', 'iso:h', 'a'), c.call('TIME')]);
      });
      redis.registerFunction('promises', (c) => {
        let resolvers = [];
        const p = new Promise((resolve, reject) => { resolvers = [resolve, reject]; });
        return reachAll([p, ...resolvers, c.callAsync('PING'), c.executeAsync(async () => 1), (async () => 1)()]);
      });
      redis.registerAsyncFunction('async', async (ac) => reachAll([ac, ac.block, ac.runOnKey, ac.block((c) => c)]));`));
    expect(await env.resp3.sendCommand(tfcall('this'))).toBe(none(2));
    expect(await env.resp3.sendCommand(tfcall('redis'))).toBe(none(5));
    expect(await env.resp3.sendCommand(tfcall('client'))).toBe(none(6));
    expect(await env.resp3.sendCommand(tfcall('errors'))).toBe(none(3));
    expect(await env.resp3.sendCommand(tfcall('replies'))).toBe(none(5));
    expect(await env.resp3.sendCommand(['TFCALLASYNC', 'lib.promises', '0'])).toBe(none(6));
    expect(await env.resp3.sendCommand(['TFCALLASYNC', 'lib.async', '0'])).toBe(none(4));
  });

  it('from Error.prepareStackTrace call sites and caller chains', async () => {
    await load(env.resp3, lib('lib', `${REACH}
      function sites() {
        const previous = Error.prepareStackTrace;
        Error.prepareStackTrace = (error, callSites) => callSites;
        const callSites = new Error().stack;
        Error.prepareStackTrace = previous;
        const values = [];
        for (const site of callSites) { values.push(site.getThis(), site.getFunction()); }
        return values;
      }
      function callers() {
        const values = [];
        let f = callers.caller;
        for (let i = 0; f && i < 20; i++) { values.push(f); try { f = f.caller; } catch (e) { break; } }
        return values;
      }
      redis.registerFunction('sites', function () { return JSON.stringify(sites().map(reach).filter((r) => r !== 'none')); });
      redis.registerFunction('callers', function () { return JSON.stringify(callers().map(reach).filter((r) => r !== 'none')); });
      redis.registerKeySpaceTrigger('t', 'iso:ev:', function (c) {
        c.call('SET', 'iso:result:sites', JSON.stringify(sites().map(reach).filter((r) => r !== 'none')));
        c.call('SET', 'iso:result:callers', JSON.stringify(callers().map(reach).filter((r) => r !== 'none')));
      });`));
    expect(await env.resp3.sendCommand(tfcall('sites'))).toBe('[]');
    expect(await env.resp3.sendCommand(tfcall('callers'))).toBe('[]');
    await env.resp3.set('iso:ev:1', 'x');
    expect(await env.resp3.get('iso:result:sites')).toBe('[]');
    expect(await env.resp3.get('iso:result:callers')).toBe('[]');
  });

  it('from keyspace event data and stream record data', async () => {
    await load(env.resp3, lib('lib', `${REACH}
      redis.registerKeySpaceTrigger('t', 'iso:ev:', (c, data) => {
        c.call('SET', 'iso:result:event', reachAll([data, data.key_raw, data.event]));
        c.call('SET', 'iso:result:fired', String(data.fired));
      }, { onTriggerFired: (c, data) => { data.fired = reachAll([c, c.call, data]); } });
      redis.registerStreamTrigger('s', 'iso:st:', (c, r) => {
        c.call('SET', 'iso:result:record', reachAll([r, r.id, r.id[0], r.record, r.record[0], r.record_raw[0][0], r.stream_name_raw]));
      });`));
    await env.resp3.set('iso:ev:1', 'x');
    await env.resp3.xAdd('iso:st:1', '*', { a: '1' });
    await eventually(async () => {
      expect(await env.resp3.get('iso:result:event')).toBe(none(3));
      expect(await env.resp3.get('iso:result:fired')).toBe(none(3));
      expect(await env.resp3.get('iso:result:record')).toBe(none(7));
    });
  });
});

/** `promise`, or a failure naming the wedge when it takes longer than `seconds`. */
async function withinSeconds<T>(seconds: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no reply within ${seconds} s: the runtime is wedged`)), seconds * 1000);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The runtime still answers PING and another library's TFCALL. */
async function expectRuntimeServes(client: Client): Promise<void> {
  expect(await client.ping()).toBe('PONG');
  expect(await client.sendCommand(['TFCALL', 'other.ok', '0'])).toBe('ok');
}

describe('hostile libraries fail alone', () => {
  beforeEach(async () => {
    await load(env.resp3, lib('other', "redis.registerFunction('ok', () => 'ok');"));
  });

  it('an unhandled rejection is logged, never fatal: the function still returns its value', async () => {
    await load(env.resp3, lib('lib', "redis.registerFunction('f', () => { (async function () { throw 'x'; })(); return 1; });"));
    expect(await env.resp3.sendCommand(tfcall('f'))).toBe(1);
    await expectRuntimeServes(env.resp3);
  });

  it("an unhandled rejection in a trigger shows as the trigger's last_error", async () => {
    await load(env.resp3, lib('lib', "redis.registerKeySpaceTrigger('t', 'iso:', () => { (async function () { throw 'lost'; })(); });"));
    await env.resp3.set('iso:1', 'x');
    const list = (await env.resp3.sendCommand(['TFUNCTION', 'LIST', 'LIBRARY', 'lib', 'v'])) as Record<string, unknown>[];
    const trigger = (list[0]!['keyspace_triggers'] as Record<string, unknown>[])[0]!;
    expect(trigger['last_error']).toBe('Unhandled promise rejection: lost');
    expect(trigger['num_success']).toBe(1);
    await expectRuntimeServes(env.resp3);
  });

  it("an unhandled rejection in a stream trigger shows as the stream's last_error", async () => {
    await load(env.resp3, lib('lib', "redis.registerStreamTrigger('s', 'iso:st:', () => { (async function () { throw 'lost'; })(); });"));
    await env.resp3.xAdd('iso:st:1', '*', { a: '1' });
    const list = (await env.resp3.sendCommand(['TFUNCTION', 'LIST', 'LIBRARY', 'lib', 'vv'])) as Record<string, unknown>[];
    const stream = ((list[0]!['stream_triggers'] as Record<string, unknown>[])[0]!['streams'] as Record<string, unknown>[])[0]!;
    expect(stream['last_error']).toBe('Unhandled promise rejection: lost');
    expect(stream['total_record_processed']).toBe(1);
    await expectRuntimeServes(env.resp3);
  });

  it('an endless loop is terminated at the lock timeout', async () => {
    await load(env.resp3, lib('lib', "redis.registerFunction('f', () => { for (;;) {} });"));
    expect(await errorOf(env.resp3.sendCommand(tfcall('f')))).toBe(TERMINATED);
    await expectRuntimeServes(env.resp3);
  });

  it("a memory bomb fails with RedisGears' OOM errors; the library stays dead, the others serve", async () => {
    // A runtime of its own whose lock timeout cannot end the bomb first (on a loaded machine the 500 ms one can,
    // before the isolate is full), so the first error is the OOM's: RedisGears words both alike.
    const redis = await startRedisServer();
    const runtime = await startRuntimeProcess(redis, ['--lock-timeout', '60000', '--memory-limit', String(MEMORY_LIMIT_MB)]);
    const client = createClient({ url: runtime.url, RESP: 3 });
    try {
      await client.connect();
      await load(client, lib('other', "redis.registerFunction('ok', () => 'ok');"));
      await load(client, lib('lib', "redis.registerFunction('f', () => { const a = []; for (;;) a.push(new Array(100000).fill(a.length)); });"));
      expect(await errorOf(client.sendCommand(tfcall('f')))).toBe(TERMINATED);
      expect(await errorOf(client.sendCommand(tfcall('f')))).toBe('JS engine reached OOM state and can not run any more code');
      await expectRuntimeServes(client);
      // REPLACE gives the library a fresh isolate.
      await load(client, lib('lib', "redis.registerFunction('f', () => 'back');"), 'REPLACE');
      expect(await client.sendCommand(tfcall('f'))).toBe('back');
    } finally {
      await client.quit().catch(() => undefined);
      await runtime.close();
      await redis.stop();
    }
  });

  it('deep recursion fails with a RangeError', async () => {
    await load(env.resp3, lib('lib', "function r(n) { return r(n + 1) + 1; } redis.registerFunction('f', () => r(0));"));
    expect(await errorOf(env.resp3.sendCommand(tfcall('f')))).toBe('RangeError: Maximum call stack size exceeded');
    await expectRuntimeServes(env.resp3);
  });

  it('a 256 MiB string does not take the runtime down', async () => {
    await load(env.resp3, lib('lib', "redis.registerFunction('f', () => { const s = 'x'.repeat(256 * 1024 * 1024); return s.length + s.indexOf('y'); });"));
    const reply = await env.resp3.sendCommand(tfcall('f')).catch((error: Error) => error.message);
    expect([268435455, TERMINATED, 'JS engine reached OOM state and can not run any more code']).toContain(reply);
    await expectRuntimeServes(env.resp3);
  });

  it('a thrown value whose toString never returns is converted under the lock timeout', async () => {
    await load(env.resp3, lib('lib', "redis.registerFunction('f', () => { throw { toString: function () { for (;;) {} } }; });"));
    expect(await errorOf(env.resp3.sendCommand(tfcall('f')))).toBe(TERMINATED);
    await expectRuntimeServes(env.resp3);
  });
});

describe('hostile rejections and CLIENT KILL', () => {
  beforeEach(async () => {
    await load(env.resp3, lib('other', "redis.registerFunction('ok', () => 'ok');"), 'REPLACE');
  });

  it('an async function rejecting with a value whose message getter never returns is converted under the lock timeout', async () => {
    const hostile = "const e = new Error('x'); Object.defineProperty(e, 'message', { get() { for (;;) {} } });";
    await load(env.resp3, lib('lib', `
      redis.registerAsyncFunction('f', async () => { ${hostile} throw e; });
      redis.registerAsyncFunction('later', async (c) => { await c.block((b) => b.callAsync('ping')); ${hostile} throw e; });
      redis.registerFunction('p', () => new Promise((resolve, reject) => { ${hostile} reject(e); }));`), 'REPLACE');
    for (const name of ['f', 'later', 'p']) {
      const reply = await env.resp3.sendCommand(['TFCALLASYNC', `lib.${name}`, '0']).catch((error: Error) => error.message);
      expect([name, reply]).toEqual([name, TERMINATED]);
      await expectRuntimeServes(env.resp3);
    }
  });

  // Each reason is read by something the library wrote when the rejection is reported: a getter, a proxy trap, a
  // getter on Object.prototype, a toString. Left unhandled at the end of a call, isolated-vm itself used to copy
  // such a reason after the call's timer had ended, on the runtime's main thread: every one of these wedged it.
  const hostileReasons: [string, string][] = [
    ['a message getter', "const e = new Error('x'); Object.defineProperty(e, 'message', { get() { for (;;) {} } });"],
    ['a proxy trap', 'const e = new Proxy({}, { get() { for (;;) {} } });'],
    ['a getter on Object.prototype', "const e = {}; Object.defineProperty(Object.prototype, 'message', { get() { for (;;) {} }, configurable: true });"],
    ['the toString of its message', 'const e = { message: { toString() { for (;;) {} } } };'],
    ['message and stack getters', "const e = new Error('x'); Object.defineProperty(e, 'message', { get() { for (;;) {} } }); Object.defineProperty(e, 'stack', { get() { for (;;) {} } });"],
    ['a toString that queues a microtask', "const e = { toString() { (async () => { await 0; for (;;) {} })(); return 'x'; } };"],
  ];
  for (const [what, hostile] of hostileReasons) {
    it(`an unhandled rejection whose reason is read by ${what}, looping forever, does not wedge the runtime`, async () => {
      await load(env.resp3, lib('lib', `redis.registerFunction('f', () => { ${hostile} (async function () { throw e; })(); return 1; });`), 'REPLACE');
      const reply = await withinSeconds(3, env.resp3.sendCommand(tfcall('f')).catch((error: Error) => error.message));
      expect([1, TERMINATED]).toContain(reply);
      await withinSeconds(3, expectRuntimeServes(env.resp3));
    });
  }

  it('unhandled hostile rejections from an async keyspace trigger, an async stream trigger and a function do not wedge the runtime', async () => {
    const hostile = hostileReasons[0]![1];
    await load(env.resp3, lib('lib', `
      redis.registerKeySpaceTrigger('t', 'iso:', async () => { ${hostile} throw e; });
      redis.registerStreamTrigger('s', 'iso:st:', async () => { ${hostile} throw e; });
      redis.registerFunction('sync', () => { ${hostile} return new Promise((resolve, reject) => reject(e)); });`), 'REPLACE');
    for (let round = 0; round < 2; round++) {
      await withinSeconds(3, env.resp3.set(`iso:${round}`, 'x'));
      await withinSeconds(3, env.resp3.xAdd(`iso:st:${round}`, '*', { a: '1' }));
      await withinSeconds(3, env.resp3.sendCommand(tfcall('sync')).catch(() => undefined));
      await withinSeconds(3, expectRuntimeServes(env.resp3));
    }
  });

  it("an unhandled rejection's reason is reported as the library's code shows it, whatever it did to Map and Array", async () => {
    const tamper = "for (const C of [Map, Array]) for (const name of Object.getOwnPropertyNames(C.prototype)) if (name !== 'constructor') try { Object.defineProperty(C.prototype, name, { get() { throw 'tampered'; }, set() { throw 'tampered'; } }); } catch (e) {}";
    await load(env.resp3, lib('lib', `redis.registerKeySpaceTrigger('t', 'iso:', () => { ${tamper} (async function () { throw new TypeError('lost'); })(); });`), 'REPLACE');
    await env.resp3.set('iso:1', 'x');
    const list = (await env.resp3.sendCommand(['TFUNCTION', 'LIST', 'LIBRARY', 'lib', 'v'])) as Record<string, unknown>[];
    const trigger = (list[0]!['keyspace_triggers'] as Record<string, unknown>[])[0]!;
    expect(trigger['last_error']).toBe('Unhandled promise rejection: TypeError: lost');
  });

  it('CLIENT KILL through the runtime spares the library host’s own connections: library calls still work', async () => {
    await load(env.resp3, lib('lib', "redis.registerFunction('f', (c) => c.call('ping')); redis.registerAsyncFunction('a', async (c) => c.block((b) => b.call('ping')));"), 'REPLACE');
    expect(await env.resp3.sendCommand(['TFCALLASYNC', 'lib.a', '0'])).toBe('PONG'); // opens a pooled connection
    // The kill closes this file's clients too; their 'error' (Socket closed unexpectedly) is expected, not a failure.
    for (const client of [env.resp3, env.resp2]) client.on('error', () => undefined);
    const killer = await RespSocket.open(env.runtime.port);
    killer.send(['CLIENT', 'KILL', 'SKIPME', 'YES']);
    await killer.read(1);
    killer.close();
    // It killed the upstream connections of this file's clients too: give the file fresh ones.
    await Promise.all([env.resp3.disconnect().catch(() => undefined), env.resp2.disconnect().catch(() => undefined)]);
    env.raw.close();
    env.resp3 = createClient({ url: env.runtime.url, RESP: 3 });
    env.resp2 = createClient({ url: env.runtime.url });
    await Promise.all([env.resp3.connect(), env.resp2.connect()]);
    env.raw = await RespSocket.open(env.runtime.port);
    expect(await env.resp3.sendCommand(tfcall('f'))).toBe('PONG');
    expect(await env.resp3.sendCommand(['TFCALLASYNC', 'lib.a', '0'])).toBe('PONG');
  });
});
