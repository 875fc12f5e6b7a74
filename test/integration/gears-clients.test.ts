/**
 * The sandbox (§1.5), the `redis` global and its registration rules (§1.5, §2.0–§2.2, §2.6) and the client
 * objects (§3.1, §3.2): what library code may touch, and the exact texts of what it may not.
 */
import { describe, expect, it } from 'vitest';
import { errorOf, eventually, lib, load, tfcall, useGearsEnv } from './gears-support.js';

const env = useGearsEnv();

const ALLOWED = [
  'Object', 'Function', 'Array', 'Number', 'parseFloat', 'parseInt', 'Infinity', 'NaN', 'undefined', 'Boolean', 'String', 'Symbol', 'Date',
  'Promise', 'RegExp', 'Error', 'AggregateError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError', 'globalThis', 'JSON',
  'Math', 'Intl', 'ArrayBuffer', 'Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array',
  'Float64Array', 'Uint8ClampedArray', 'BigUint64Array', 'BigInt64Array', 'DataView', 'Map', 'Set', 'WeakMap', 'WeakSet', 'BigInt', 'Proxy',
  'Reflect', 'FinalizationRegistry', 'WeakRef', 'decodeURI', 'decodeURIComponent', 'encodeURI', 'encodeURIComponent', 'escape', 'unescape',
  'isFinite', 'isNaN', 'console',
];
const DENIED = [
  'eval', 'EvalError', 'SharedArrayBuffer', 'Atomics', 'WebAssembly', 'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'queueMicrotask',
  'Buffer', 'TextEncoder', 'TextDecoder', 'fetch', 'require', 'process', 'document', 'structuredClone', 'global', 'module', 'exports',
];
const failedLoad = (body: string) => errorOf(load(env.resp3, lib('bad', body)));

describe('sandbox (§1.5)', () => {
  it('holds exactly the allow-list plus redis; every denied global is absent', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerFunction('own', () => Object.getOwnPropertyNames(globalThis).filter((n) => !${JSON.stringify(ALLOWED)}.includes(n)).join(','));
      redis.registerFunction('missing', () => ${JSON.stringify(ALLOWED)}.filter((n) => typeof globalThis[n] === 'undefined' && n !== 'undefined').join(','));
      redis.registerFunction('denied', () => ${JSON.stringify(DENIED)}.map((n) => n + ':' + typeof globalThis[n]).join(','));`));
    expect(await env.resp3.sendCommand(tfcall('own'))).toBe('redis');
    expect(await env.resp3.sendCommand(tfcall('missing'))).toBe('');
    expect(await env.resp3.sendCommand(tfcall('denied'))).toBe(DENIED.map((n) => `${n}:undefined`).join(','));
  });

  it('Promise is a plain native function: no statics, no instanceof, one required argument, async executors refused; async/await works', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerFunction('statics', () => ['resolve', 'reject', 'all', 'allSettled', 'any', 'race'].map((s) => typeof Promise[s]).join(','));
      redis.registerFunction('inst', () => [new Promise(() => {}) instanceof Promise, (async () => 1)() instanceof Promise].join(','));
      const err = (f) => { try { f(); return 'no error'; } catch (e) { return e; } };
      redis.registerFunction('bad', () => [err(() => new Promise(async () => 1)), err(() => new Promise(1)), err(() => new Promise())].join('|'));
      redis.registerFunction('resolveNoArg', () => { let out; new Promise((resolve) => { out = err(() => resolve()); }); return out; });
      redis.registerFunction('later', () => new Promise((resolve) => resolve('settled later')));
      redis.registerAsyncFunction('awaits', async () => { const v = await (async () => 'x')(); return v + 'y'; });`));
    expect(await env.resp3.sendCommand(tfcall('statics'))).toBe('undefined,undefined,undefined,undefined,undefined,undefined');
    expect(await env.resp3.sendCommand(tfcall('inst'))).toBe('false,false');
    expect(await env.resp3.sendCommand(tfcall('bad'))).toBe(
      "Bad argument to 'Promise' function|Bad argument to 'Promise' function|Can not convert value at position 0 into V8LocalValue. Wrong number of arguments given.",
    );
    expect(await env.resp3.sendCommand(tfcall('resolveNoArg'))).toBe('Can not convert value at position 0 into V8LocalValue. Wrong number of arguments given.');
    // resolve settles on the background thread: not settled when the function returns, so TFCALL cannot wait for it.
    expect(await errorOf(env.resp3.sendCommand(tfcall('later')))).toContain('Can not block client for background execution');
    expect(await env.resp3.sendCommand(['TFCALLASYNC', 'lib.later', '0'])).toBe('settled later');
    expect(await env.resp3.sendCommand(['TFCALLASYNC', 'lib.awaits', '0'])).toBe('xy');
  });

  it('console exists and is silent; the script value of a rejected promise fails the load', async () => {
    await load(env.resp3, lib('lib', "redis.registerFunction('log', () => String(console.log('to nowhere')));"));
    expect(await env.resp3.sendCommand(tfcall('log'))).toBe('undefined');
    expect(await failedLoad("redis.registerFunction('f', () => 1); (async () => { throw 'no'; })();")).toBe('Failed loading library: Failed evaluating module: no.');
  });

  it('an already settled promise answers TFCALL at once', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerFunction('ok', () => (async () => 'done')());
      redis.registerFunction('ko', () => (async () => { throw 'failed'; })());`));
    expect(await env.resp2.sendCommand(tfcall('ok'))).toBe('done');
    expect(await errorOf(env.resp2.sendCommand(tfcall('ko')))).toBe('failed');
  });
});

describe('the redis global (§1.5, §2.0–§2.2, §2.6)', () => {
  it('has functionFlags, v8Version(), apiVersion(), config and log', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerFunction('g', () => [JSON.stringify(redis.functionFlags), typeof redis.v8Version, typeof redis.v8Version(), redis.apiVersion(),
        JSON.stringify(redis.config), typeof redis.log('hello'), typeof redis.registerClusterFunction, typeof redis.redisai].join('|'));`, '1.1'));
    expect(await env.resp3.sendCommand(tfcall('g'))).toBe('{"NO_WRITES":"no-writes","ALLOW_OOM":"allow-oom","RAW_ARGUMENTS":"raw-arguments"}|function|string|1.1|{}|undefined|function|object');
    expect(await failedLoad("redis.log(1); redis.registerFunction('f', () => 1);")).toBe('Failed loading library: Can not convert value at position 0 into V8LocalUtf8. Value is not string..');
  });

  it('checks option objects strictly: unknown keys (even an array index), wrong field types; null/undefined fields are absent', async () => {
    const prefix = 'Failed loading library: Can not convert value at position';
    expect(await failedLoad("redis.registerFunction('f', () => 1, [1]);")).toBe(`${prefix} 2 into Option < NativeFunctionOptionalArgs >. Unknown properties given: 0..`);
    expect(await failedLoad("redis.registerFunction('f', () => 1, undefined);")).toBe(`${prefix} 2 into Option < NativeFunctionOptionalArgs >. Given argument must be an object..`);
    expect(await failedLoad("redis.registerFunction('f', () => 1, { description: 1 });")).toBe(
      `${prefix} 2 into Option < NativeFunctionOptionalArgs >. Failed getting field description, Value is not string...`,
    );
    expect(await failedLoad("redis.registerFunction('f', () => 1, { flags: 'no-writes' });")).toBe(
      `${prefix} 2 into Option < NativeFunctionOptionalArgs >. Failed getting field flags, Value is not an array...`,
    );
    expect(await failedLoad("redis.registerFunction('f', () => 1, { flags: [1] });")).toBe('Failed loading library: Failed parsing function flags, wrong type of string value.');
    expect(await failedLoad("redis.registerStreamTrigger('s', 'p', () => 1, { window: 1.5 });")).toBe(
      `${prefix} 3 into Option < StreamTriggerOptionalArgs >. Failed getting field window, Value is not long...`,
    );
    expect(await failedLoad("redis.registerStreamTrigger('s', 'p', () => 1, { isStreamTrimmed: 1 });")).toBe(
      `${prefix} 3 into Option < StreamTriggerOptionalArgs >. Failed getting field isStreamTrimmed, Value is not a boolean...`,
    );
    expect(await failedLoad("redis.registerKeySpaceTrigger('t', 'p', () => 1, { eventNotificationFlags: [] });")).toBe(
      `${prefix} 3 into Option < NoficationConsumerOptionalArgs >. Unknown properties given: eventNotificationFlags..`,
    );
    expect(await failedLoad("redis.registerFunction(1, () => 1);")).toBe(`${prefix} 0 into V8LocalUtf8. Value is not string..`);
    expect(await failedLoad("redis.registerFunction('f');")).toBe(`${prefix} 1 into V8LocalValue. Wrong number of arguments given..`);
    expect(await failedLoad("redis.registerFunction('f', 1);")).toBe("Failed loading library: Second argument to 'registerFunction' must be a function.");
    expect(await failedLoad("redis.registerStreamTrigger('s', 'p', 1);")).toBe("Failed loading library: The fifth argument to 'registerStreamTrigger' must be a function.");
    expect(await failedLoad("redis.registerStreamTrigger('s', 1, () => 1);")).toBe(
      "Failed loading library: Second argument to 'registerStreamTrigger' must be a String or ArrayBuffer representing the prefix.",
    );
    expect(await failedLoad("redis.registerKeySpaceTrigger('t', 'p', 1);")).toBe("Failed loading library: Third argument to 'registerKeySpaceTrigger' must be a function.");
    expect(await failedLoad("redis.registerClusterFunction('c', () => 1);")).toBe('Failed loading library: Remote function must be async.');
    // Known keys are popped from the caller's object; null and undefined count as absent; String objects are strings.
    await load(env.resp3, lib('lib', `
      const options = { description: new String('d'), flags: null };
      redis.registerFunction('f', () => JSON.stringify(options) + Object.keys(options).length, options);
      redis.registerStreamTrigger('s', new Uint8Array([0x73, 0x3a]).buffer, () => 1, { window: 2n, isStreamTrimmed: undefined });`));
    expect(await env.resp3.sendCommand(tfcall('f'))).toBe('{}0');
  });

  it('applies the name rules to every kind and refuses duplicates per kind', async () => {
    expect(await failedLoad("redis.registerFunction('', () => 1);")).toBe("Failed loading library: Unallowed function name '', Empty name is not allowed..");
    expect(await failedLoad("redis.registerKeySpaceTrigger('a-b', 'p', () => 1);")).toBe("Failed loading library: Unallowed key space trigger name 'a-b', Unallowed char was given '-'..");
    expect(await failedLoad("redis.registerStreamTrigger('a b', 'p', () => 1);")).toBe("Failed loading library: Unallowed stream trigger name 'a b', Unallowed char was given ' '..");
    expect(await failedLoad("redis.registerFunction('f', () => 1); redis.registerClusterFunction('é', async () => 1);")).toBe(
      "Failed loading library: Unallowed cluster function name 'é', Unallowed char was given 'é'..",
    );
    expect(await failedLoad("redis.registerFunction('f', () => 1); redis.registerAsyncFunction('f', async () => 1);")).toBe('Failed loading library: Function f already exists.');
    expect(await failedLoad("redis.registerStreamTrigger('s', 'p', () => 1); redis.registerStreamTrigger('s', 'q', () => 1);")).toBe(
      'Failed loading library: Stream registration already exists.',
    );
    expect(await failedLoad("redis.registerFunction('f', () => 1); redis.registerClusterFunction('c', async () => 1); redis.registerClusterFunction('c', async () => 1);")).toBe(
      'Failed loading library: Remote function c already exists.',
    );
    // The same name in different kinds is fine.
    expect(await load(env.resp3, lib('lib', "redis.registerFunction('x', () => 1); redis.registerKeySpaceTrigger('x', 'p', () => 1); redis.registerStreamTrigger('x', 'p', () => 1);"))).toBe('OK');
  });

  it('registrations after the load are refused with their own texts', async () => {
    await load(env.resp3, lib('lib', `
      const attempts = {
        fn: () => redis.registerFunction('x', () => 1), afn: () => redis.registerAsyncFunction('x', async () => 1),
        stream: () => redis.registerStreamTrigger('x', 'p', () => 1), keyspace: () => redis.registerKeySpaceTrigger('x', 'p', () => 1),
        cluster: () => redis.registerClusterFunction('x', async () => 1),
      };
      redis.registerAsyncFunction('late', async () => Object.values(attempts).map((a) => { try { a(); return 'registered'; } catch (e) { return e; } }).join('|'));`));
    expect(await env.resp3.sendCommand(['TFCALLASYNC', 'lib.late', '0'])).toBe(
      "Called 'register_function' out of context|Called 'register_function' out of context|Called 'registerFunction' out of context|Called 'registerKeySpaceTrigger' out of context|Called 'registerClusterFunction' out of context",
    );
  });

  it('NO_WRITES refuses writes, RAW_ARGUMENTS passes ArrayBuffers (binary arguments accepted), flags combine', async () => {
    await load(env.resp3, lib('lib', `
      const f = redis.functionFlags;
      redis.registerFunction('ro', (c, key) => { const v = c.call('get', key); try { c.call('del', key); } catch (e) { return v + '|' + e; } }, { flags: [f.NO_WRITES] });
      redis.registerFunction('raw', (c, ...args) => args.map((a) => a instanceof ArrayBuffer ? a.byteLength : typeof a).join(','), { flags: [f.RAW_ARGUMENTS, f.ALLOW_OOM] });
      redis.registerAsyncFunction('roblock', async (c) => c.block((s) => { try { s.call('set', 'x', '1'); } catch (e) { return e; } }), { flags: [f.NO_WRITES] });`));
    await env.resp3.set('k', 'v');
    expect(await env.resp3.sendCommand(['TFCALL', 'lib.ro', '1', 'k'])).toBe("v|ERR Write command 'del' was called while write is not allowed.");
    expect(await env.resp3.sendCommand(['TFCALL', 'lib.raw', '1', Buffer.from([0xff]), 'ab'])).toBe('1,2');
    expect(await env.resp3.sendCommand(['TFCALLASYNC', 'lib.roblock', '0'])).toBe("ERR Write command 'set' was called while write is not allowed.");
  });
});

describe('clients (§3.1, §3.2)', () => {
  it('isBlockAllowed: false under TFCALL and inside MULTI, true under TFCALLASYNC, in triggers and in block()', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerFunction('b', (c) => c.isBlockAllowed());
      redis.registerAsyncFunction('inblock', async (c) => c.block((s) => s.isBlockAllowed()));
      redis.registerKeySpaceTrigger('t', 'kt', (c) => { c.call('set', 'trigger_allowed', String(c.isBlockAllowed())); },
        { onTriggerFired: (c, d) => { d.fired = String(c.isBlockAllowed()); } });`));
    expect(await env.resp2.sendCommand(tfcall('b'))).toBe(0);
    expect(await env.resp2.sendCommand(['TFCALLASYNC', 'lib.b', '0'])).toBe(1);
    expect(await env.resp3.multi().addCommand(['TFCALLASYNC', 'lib.b', '0']).addCommand(tfcall('b')).exec()).toEqual([false, false]);
    expect(await env.resp3.sendCommand(['TFCALLASYNC', 'lib.inblock', '0'])).toBe(true);
    await env.resp3.set('kt1', 'v');
    expect(await env.resp3.get('trigger_allowed')).toBe('true');
  });

  it('misuse: "Used on invalid client", "Main thread is not locked", executeAsync and block argument errors', async () => {
    await load(env.resp3, lib('lib', `
      let kept;
      const err = (f) => { try { f(); return 'no error'; } catch (e) { return e; } };
      redis.registerFunction('keep', (c) => { kept = c; return 'kept'; });
      redis.registerAsyncFunction('useKept', async (c) => [err(() => kept.isBlockAllowed()), c.block(() => err(() => kept.call('ping'))),
        err(() => kept.executeAsync(async () => 1))].join('|'));
      redis.registerAsyncFunction('unlocked', async (c) => { let seen; await c.block((s) => { seen = s; }); return [err(() => seen.call('ping')), err(() => c.block(1))].join('|'); });
      redis.registerFunction('execBad', (c) => [err(() => c.executeAsync(() => 1)), err(() => c.executeAsync())].join('|'));
      redis.registerFunction('callBad', (c) => [err(() => c.call(1)), err(() => c.call('set', 'k', 1n)), err(() => c.call('get', null))].join('|'));
      redis.registerFunction('unknown', (c) => [err(() => c.call('nosuchcommand')), err(() => c.call('get'))].join('|'));`));
    expect(await env.resp3.sendCommand(tfcall('keep'))).toBe('kept');
    expect(await env.resp3.sendCommand(['TFCALLASYNC', 'lib.useKept', '0'])).toBe("Used on invalid client|Used on invalid client|Called 'executeAsync' out of context");
    expect(await env.resp3.sendCommand(['TFCALLASYNC', 'lib.unlocked', '0'])).toBe("Main thread is not locked|Argument to 'block' must be a function");
    expect(await env.resp3.sendCommand(tfcall('execBad'))).toBe(
      "First argument to 'executeAsync' must be an async function|Can not convert value at position 0 into V8LocalValue. Wrong number of arguments given.",
    );
    const bytes = 'Failed consuming arguments. Can not convert value into bytes buffer.';
    expect(await env.resp3.sendCommand(tfcall('callBad'))).toBe(`Can not convert value at position 0 into V8LocalUtf8. Value is not string.|${bytes}|${bytes}`);
    expect(await env.resp3.sendCommand(tfcall('unknown'))).toBe("ERR Unknown Redis command 'nosuchcommand'.|ERR Wrong number of args calling Redis command 'get'.");
  });

  it('executeAsync runs in the background and rejects with the thrown value; block rethrows', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerFunction('rej', (c) => c.executeAsync(async () => { throw 'bg failed'; }));
      redis.registerAsyncFunction('rethrow', async (c) => { try { c.block(() => { throw 'inner'; }); } catch (e) { return 'caught ' + e; } });
      redis.registerFunction('callAsyncRaw', (c) => c.callAsyncRaw('get', 'k'));`));
    await env.resp3.set('k', 'v');
    expect(await errorOf(env.resp3.sendCommand(['TFCALLASYNC', 'lib.rej', '0']))).toBe('bg failed');
    expect(await env.resp3.sendCommand(['TFCALLASYNC', 'lib.rethrow', '0'])).toBe('caught inner');
    expect(await env.resp3.sendCommand(['TFCALLASYNC', 'lib.callAsyncRaw', '0'])).toBe('v');
    await eventually(async () => {
      const list = (await env.resp3.sendCommand(['TFUNCTION', 'LIST'])) as Record<string, unknown>[];
      expect(list[0]!['pending_jobs']).toBe(0);
    });
  });
});
