import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { errorOf, lib, load, useGearsEnv } from './gears-support.js';

const env = useGearsEnv({ lockTimeoutMs: 500, flush: false });

const PROLOGUE_INVALID =
  'Invalid or missing prologue. The rules for the prologue are: a) It starts on the first line. b) It is formatted as follows: "#!<engine name> <key>=<value>".';
const FN = "\nredis.registerFunction('f', () => 1);";

describe('prologue (§1.1) and API versions (§1.2)', () => {
  it.each([
    ['redis.registerFunction()', PROLOGUE_INVALID],
    ['#!js name', PROLOGUE_INVALID],
    ['#!js api_version=1.0 name=lib x', PROLOGUE_INVALID],
    ['#!js name=lib', 'The api version is missing from the prologue.'],
    ['#!js api_version=1.0', 'The library name is missing from the prologue.'],
    ['#!js api_version=1.0 name=lib foo=1 xxx=2', 'Unknown prologue properties provided: "foo", "xxx". Known properties: api_version, name.'],
    ['#!js api_version=1.0 name=lib name=x', 'Duplicated prologue properties found: name.'],
    ['#!js api_version=1.2-3x name=lib', 'The API version has been incorrectly specified: "1.2-3x". The expected format is "<major>.<minor>". An example: "1.1".'],
    ['#!js api_version=1.0 name=foo.bar', "Unallowed library name 'foo.bar', Unallowed char was given '.'."],
    ['#!js1 api_version=1.0 name=lib', 'Unknown backend js1'],
    ['#!js api_version=1.2 name=lib', 'Failed to compile library: An unsupported API version was requested: 1.2. The supported versions are 1.0, 1.1.'],
  ])('%s → %s', async (header, message) => {
    expect(await errorOf(load(env.resp3, header + FN))).toBe(message);
  });

  it('accepts keys in any order and a trailing space; 1.0 libraries get apiVersion() = 1.1, LIST shows the declared one', async () => {
    await load(env.resp3, `#!js name=lib api_version=1.0 \nredis.registerFunction('v', () => redis.apiVersion());`);
    expect(await env.resp3.sendCommand(['TFCALL', 'lib.v', '0'])).toBe('1.1');
    const list = (await env.resp2.sendCommand(['TFUNCTION', 'LIST'])) as unknown[][];
    expect(list[0]![list[0]!.indexOf('api_version') + 1]).toBe('1.0');
  });
});

describe('TFUNCTION LOAD (§1.3)', () => {
  it('gives every argument error text', async () => {
    expect(await errorOf(env.resp3.sendCommand(['TFUNCTION', 'LOAD']))).toBe('Could not find library payload');
    expect(await errorOf(env.resp3.sendCommand(['TFUNCTION', 'LOAD', 'CONFIG']))).toBe('configuration value was not given');
    expect(await errorOf(env.resp3.sendCommand(['TFUNCTION', 'LOAD', 'CONFIG', '[1]', lib('lib', FN)]))).toBe('configuration must be a valid json object');
    expect(await errorOf(env.resp3.sendCommand(['TFUNCTION', 'LOAD', 'CONFIG', '{x', lib('lib', FN)]))).toMatch(/^configuration must be a valid json, '\{x', .*\.$/);
    expect(await errorOf(env.resp3.sendCommand(['TFUNCTION', 'LOAD', 'USER', 'bob', lib('lib', FN)]))).toBe('Unknown argument user');
    expect(await errorOf(env.resp3.sendCommand(['TFUNCTION', 'LOAD', Buffer.from([0xff, 0xfe])]))).toBe('lib code must a valid string');
  });

  it('refuses a second load without REPLACE and nothing registered', async () => {
    await load(env.resp3, lib('lib', FN));
    expect(await errorOf(load(env.resp3, lib('lib', FN)))).toBe('Library lib already exists.');
    expect(await errorOf(load(env.resp3, lib('other', 'var x = 1;')))).toBe('Neither function nor other registrations were found.');
    expect(await errorOf(load(env.resp3, lib('other', "redis.registerClusterFunction('c', async () => 1);")))).toBe('Neither function nor other registrations were found.');
  });

  it('wraps syntax errors, classic script only (import/export fail to compile)', async () => {
    expect(await errorOf(load(env.resp3, lib('lib', 'export const x = 1;')))).toBe("Failed to compile library: SyntaxError: Unexpected token 'export'");
    expect(await errorOf(load(env.resp3, lib('lib', "import x from 'y';")))).toMatch(/^Failed to compile library: SyntaxError: Cannot use import statement outside a module/);
  });

  it('wraps load-time exceptions and registration errors', async () => {
    expect(await errorOf(load(env.resp3, lib('lib', "throw new Error('boom');")))).toBe('Failed loading library: Error: boom.');
    expect(await errorOf(load(env.resp3, lib('lib', "redis.registerFunction('f', () => 1); redis.registerFunction('f', () => 2);")))).toBe(
      'Failed loading library: Function f already exists.',
    );
    expect(await errorOf(load(env.resp3, lib('lib', "redis.registerFunction('f', async () => 1);")))).toBe(
      "Failed loading library: 'registerFunction' can not be used with async function, use 'registerAsyncFunction' instead..",
    );
    expect(await errorOf(load(env.resp3, lib('lib', "redis.registerFunction('f', () => 1, { flags: ['x'] });")))).toBe(
      "Failed loading library: Failed parsing function flags, Unknow flag 'x' was given.",
    );
    expect(await errorOf(load(env.resp3, lib('lib', "redis.registerFunction('f', () => 1, { foo: 1, description: 'd' });")))).toBe(
      'Failed loading library: Can not convert value at position 2 into Option < NativeFunctionOptionalArgs >. Unknown properties given: foo..',
    );
    expect(await errorOf(load(env.resp3, lib('lib', "redis.registerFunction('a.b', () => 1);")))).toBe("Failed loading library: Unallowed function name 'a.b', Unallowed char was given '.'..");
    expect(await errorOf(load(env.resp3, lib('lib', "redis.registerStreamTrigger('s', 'p', () => 1, { window: 0 });")))).toBe(
      'Failed loading library: window argument must be a positive number.',
    );
    expect(await errorOf(load(env.resp3, lib('lib', 'Promise.reject("no");')))).toMatch(/^Failed loading library:/);
  });

  it('terminates a top-level endless loop at the lock timeout', async () => {
    expect(await errorOf(load(env.resp3, lib('lib', 'while (true) {}')))).toBe('Failed loading library: Err Execution was terminated due to OOM or timeout.');
  });

  it('starts the lock timeout after compiling: a library whose compile alone outlasts it loads', async () => {
    // RedisGears compiles the library before its lock clock starts (v8_backend.rs compile_library, then
    // v8_script_ctx.rs load_library runs the script under the lock). ~26 MB of a function never called: compiling
    // it (preparsing the body) takes about a second here, running the top level next to nothing.
    const unused = `function unused() {\n  let x = 0;\n${'  x = x + 1;\n'.repeat(2_000_000)}}\n`;
    expect(await load(env.resp3, lib('big', `${unused}redis.registerFunction('f', () => 'loaded');`))).toBe('OK');
    expect(await env.resp3.sendCommand(['TFCALL', 'big.f', '0'])).toBe('loaded');
    await env.resp3.sendCommand(['TFUNCTION', 'DELETE', 'big']);
  }, 60_000);

  it('terminates a function at the lock timeout', async () => {
    await load(env.resp3, lib('lib', "redis.registerFunction('spin', () => { while (true) {} });"));
    expect(await errorOf(env.resp3.sendCommand(['TFCALL', 'lib.spin', '0']))).toBe('Err Execution was terminated due to OOM or timeout');
  });

  it('REPLACE is atomic: a failed upgrade keeps the old library', async () => {
    await load(env.resp3, lib('lib', "redis.registerFunction('f', () => 'old');"));
    expect(await errorOf(load(env.resp3, lib('lib', "redis.registerFunction('f', () => 'new'); throw 'x';"), 'REPLACE'))).toBe('Failed loading library: x.');
    expect(await env.resp3.sendCommand(['TFCALL', 'lib.f', '0'])).toBe('old');
    await load(env.resp3, lib('lib', "redis.registerFunction('f', () => 'new');"), 'replace');
    expect(await env.resp3.sendCommand(['TFCALL', 'lib.f', '0'])).toBe('new');
  });

  it('passes CONFIG as redis.config ({} without it) and keeps the JSON text for LIST', async () => {
    await load(env.resp3, lib('lib', "redis.registerFunction('c', () => JSON.stringify(redis.config));"), 'CONFIG', '{"a": 1}');
    expect(await env.resp3.sendCommand(['TFCALL', 'lib.c', '0'])).toBe('{"a":1}');
    await load(env.resp3, lib('lib2', "redis.registerFunction('c', () => JSON.stringify(redis.config));"));
    expect(await env.resp3.sendCommand(['TFCALL', 'lib2.c', '0'])).toBe('{}');
  });

  it('refuses registrations out of load context', async () => {
    await load(env.resp3, lib('lib', "redis.registerFunction('late', () => { try { redis.registerFunction('x', () => 1); } catch (e) { return e; } });"));
    expect(await env.resp3.sendCommand(['TFCALL', 'lib.late', '0'])).toBe("Called 'register_function' out of context");
  });
});

describe('TFUNCTION LOAD at the shortest lock timeout (§1.3)', () => {
  const short = useGearsEnv({ lockTimeoutMs: 100, flush: false });

  it('compiles once, before the lock clock starts: a compile slowed down by CPU contention does not count against the timeout', async () => {
    // RedisGears compiles a library once, before its lock clock starts, then runs its top level under the lock
    // (v8_backend.rs compile_library, v8_script_ctx.rs load_library). ~26 MB of a function never called: compiling
    // it takes about half a second, running the top level next to nothing. Busy threads take the CPU from the
    // runtime from about when a compile of it ends: a second compile under the lock, with an allowance of what the
    // first took, would be the slower one by far more than the 100 ms timeout.
    const unused = `function unused() {\n  let x = 0;\n${'  x = x + 1;\n'.repeat(2_000_000)}}\n`;
    const code = lib('big', `${unused}redis.registerFunction('f', () => 'loaded');`);
    const started = performance.now();
    new vm.Script(code);
    const compileMs = performance.now() - started;
    for (let i = 0; i < 5; i++) {
      const spinners = await contention(3, compileMs * 0.9, compileMs * 2);
      try {
        expect(await load(short.resp3, code, 'REPLACE')).toBe('OK');
      } finally {
        await spinners();
      }
    }
    expect(await short.resp3.sendCommand(['TFCALL', 'big.f', '0'])).toBe('loaded');
    // The top level still runs under the timeout.
    expect(await errorOf(load(short.resp3, lib('spin', `${unused}redis.registerFunction('f', () => 1); while (true) {}`)))).toBe(
      'Failed loading library: Err Execution was terminated due to OOM or timeout.',
    );
    await short.resp3.sendCommand(['TFUNCTION', 'DELETE', 'big']);
  }, 120_000);
});

/** `count` threads that busy-loop for `spinMs` from `delayMs` on; the function returned waits until they ended. */
async function contention(count: number, delayMs: number, spinMs: number): Promise<() => Promise<void>> {
  const source = `
    const { workerData, parentPort } = require('node:worker_threads');
    const shared = new Int32Array(workerData.shared);
    const startAt = new Float64Array(workerData.startAt);
    parentPort.postMessage('ready');
    Atomics.wait(shared, 0, 0);
    const wait = startAt[0] - Date.now();
    if (wait > 0) Atomics.wait(shared, 1, 0, wait);
    const end = startAt[0] + workerData.spinMs;
    while (Date.now() < end);
  `;
  const shared = new SharedArrayBuffer(8);
  const startAt = new SharedArrayBuffer(8);
  const workers = Array.from({ length: count }, () => new Worker(source, { eval: true, workerData: { shared, startAt, spinMs } }));
  await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('message', resolve))));
  const exited = Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve))));
  new Float64Array(startAt)[0] = Date.now() + delayMs;
  Atomics.store(new Int32Array(shared), 0, 1);
  Atomics.notify(new Int32Array(shared), 0);
  return async () => {
    await exited;
  };
}

describe('sandbox globals (§1.5)', () => {
  it('keeps only the allow-list; Promise is a plain constructor without statics', async () => {
    await load(env.resp3, lib('lib', `
      redis.registerFunction('g', () => [typeof eval, typeof require, typeof process, typeof setTimeout, typeof Buffer, typeof TextEncoder,
        typeof structuredClone, typeof SharedArrayBuffer, typeof Atomics, typeof WebAssembly, typeof EvalError, typeof console,
        typeof Promise.all, typeof new Promise(() => {}).then, typeof Map, typeof BigInt64Array].join(','));
      redis.registerFunction('realm', (c) => { c.call('sadd', 's', 'a'); const s = c.call('smembers', 's'); const a = c.call('lrange', 'l', '0', '-1');
        return [s instanceof Set, a instanceof Array, c.callRaw('get', 'none') === null].join(','); });`));
    expect(await env.resp3.sendCommand(['TFCALL', 'lib.g', '0'])).toBe(
      'undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,object,undefined,function,function,function',
    );
    expect(await env.resp3.sendCommand(['TFCALL', 'lib.realm', '0'])).toBe('true,true,true');
  });

  it('loads the built dist/writebehind.js, which uses no global the sandbox lacks', async () => {
    const code = readFileSync(new URL('../../dist/writebehind.js', import.meta.url), 'utf8');
    // No reference to a Node/browser global the sandbox deletes (a static look, since some paths run only later).
    for (const missing of ['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'Buffer', 'TextEncoder', 'TextDecoder', 'structuredClone', 'require', 'process', 'SharedArrayBuffer', 'Atomics', 'WebAssembly', 'fetch']) {
      expect(code, missing).not.toMatch(new RegExp(`(?<![.\\w$])${missing}\\b(?!\\s*:)`));
    }
    expect(code).not.toMatch(/(?<![.\w$])eval\s*\(/);
    // Promise.all/resolve appear only in zod's async parse paths, which the library never takes (it parses synchronously).
    const config = JSON.stringify({ name: 'WriteBehind', writers: [{ name: 'P', keysPrefix: 'person', table: 'persons', primaryKey: 'person_id', mappings: { a: 'a' } }] });
    expect(await load(env.resp3, code, 'CONFIG', config)).toBe('OK');
    const list = (await env.resp2.sendCommand(['TFUNCTION', 'LIST'])) as unknown[][];
    expect((list[0]![list[0]!.indexOf('functions') + 1] as unknown[]).length).toBeGreaterThan(0);
  });
});
