/**
 * The built bundle (dist/writebehind.js) as RedisGears loads it: a classic script, in a context holding only the
 * globals RedisGears leaves (its allow-list, without eval, SharedArrayBuffer, Atomics and WebAssembly), with
 * code generation from strings off. A recording `redis` global checks what the library registers and how; this
 * tests the bundle's shape and load-time behaviour, not Redis (the runtime tests do that).
 */
import { readFileSync } from 'node:fs';
import { createContext, Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ALLOWED_GLOBALS } from '../../src/runtime/library-host/sandbox.js';
import { exampleConfig, testConfig } from '../fixtures/library-configs.js';

const BUNDLE = readFileSync(new URL('../../dist/writebehind.js', import.meta.url), 'utf8');
const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;


const GEARS_NAME = /^[A-Za-z0-9_]+$/;
const KNOWN_OPTIONS: Record<string, string[]> = {
  function: ['description', 'flags'],
  keyspace: ['description', 'onTriggerFired'],
  stream: ['description', 'window', 'isStreamTrimmed'],
};

interface Registration {
  kind: 'function' | 'keyspace' | 'stream';
  name: string;
  prefix?: string;
  fn: (...args: unknown[]) => unknown;
  options: Record<string, unknown>;
}

/** Loads the bundle the way RedisGears does and returns what it registered, or throws what the load threw. */
function loadBundle(config: unknown): { registrations: Registration[]; logs: string[] } {
  const registrations: Registration[] = [];
  const logs: string[] = [];
  const seenOptions = new Set<object>();
  // RedisGears pops the keys it knows from an options object and fails on leftovers, so an options object can
  // serve only one registration; this records the object and checks its keys the same way.
  const record = (kind: Registration['kind'], name: string, fn: unknown, options: unknown, prefix?: string) => {
    if (!GEARS_NAME.test(name)) throw `Unallowed name '${name}'`;
    if (typeof fn !== 'function') throw `'${name}' callback must be a function`;
    if (kind !== 'function' && fn.constructor.name === 'AsyncFunction') throw `'${name}' must be a sync callback`;
    const opts = (options ?? {}) as Record<string, unknown>;
    if (seenOptions.has(opts)) throw `options object of '${name}' was used before`;
    seenOptions.add(opts);
    const unknown = Object.keys(opts).filter((key) => !KNOWN_OPTIONS[kind]!.includes(key));
    if (unknown.length > 0) throw `Unknown properties given: ${unknown.join(', ')}`;
    if (registrations.some((r) => r.kind === kind && r.name === name)) throw `${name} already exists`;
    registrations.push({ kind, name, fn: fn as Registration['fn'], options: { ...opts }, ...(prefix === undefined ? {} : { prefix }) });
  };
  const redis = {
    config,
    functionFlags: { NO_WRITES: 'no-writes', ALLOW_OOM: 'allow-oom', RAW_ARGUMENTS: 'raw-arguments' },
    log: (msg: unknown) => {
      if (typeof msg !== 'string') throw 'log message must be a string';
      logs.push(msg);
    },
    registerFunction: (name: string, fn: unknown, options?: unknown) => record('function', name, fn, options),
    registerAsyncFunction: () => {
      throw 'the library registers no async functions';
    },
    registerKeySpaceTrigger: (name: string, prefix: string, fn: unknown, options?: unknown) => record('keyspace', name, fn, options, prefix),
    registerStreamTrigger: (name: string, prefix: string, fn: unknown, options?: unknown) => record('stream', name, fn, options, prefix),
    v8Version: () => '11.0',
    apiVersion: () => '1.1',
  };
  const context = createContext({}, { codeGeneration: { strings: false, wasm: false } });
  new Script(`for (const name of Object.getOwnPropertyNames(globalThis)) if (!${JSON.stringify([...ALLOWED_GLOBALS])}.includes(name)) delete globalThis[name];`).runInContext(context);
  // RedisGears replaces Promise with a native function without statics; async/await keep V8's own.
  new Script('globalThis.Promise = function Promise() { throw "the native Promise replacement is not used at load"; };').runInContext(context);
  context['redis'] = redis;
  new Script(BUNDLE, { filename: 'writebehind.js' }).runInContext(context);
  return { registrations, logs };
}

/** The bundle without the modules esbuild took from node_modules (each module starts with a `// <path>` line). */
function ownCode(): string {
  return BUNDLE.split(/^(?=  \/\/ [\w@./-]+\.[jt]s$)/m)
    .filter((module) => !module.startsWith('  // node_modules/'))
    .join('');
}

describe('the library bundle', () => {
  it('is one classic script whose first line is the RedisGears prologue', () => {
    expect(BUNDLE.split('\n')[0]).toBe('#!js api_version=1.0 name=WriteBehind');
    expect(BUNDLE).not.toMatch(/^\s*(import|export)\b/m);
    expect(BUNDLE).not.toMatch(/\bimport\.meta\b|\bimport\(/);
  });

  it('names no Node or browser global the sandbox lacks', () => {
    for (const name of ['Buffer', 'TextEncoder', 'TextDecoder', 'setTimeout', 'setInterval', 'setImmediate', 'process', 'require', 'structuredClone', 'queueMicrotask', 'fetch']) {
      expect(BUNDLE, name).not.toMatch(new RegExp(`\\b${name}\\b`));
    }
    expect(BUNDLE).not.toMatch(/\bconsole\./);
  });

  it('uses no Promise statics in its own code (zod has some, only on its async parse path, which sync parsing never takes)', () => {
    expect(ownCode()).not.toMatch(/\bPromise\.(all|allSettled|any|race|resolve|reject)\b/);
    expect(ownCode()).toContain('// gears/index.ts');
  });

  it('registers, for the example config, one sync keyspace trigger per writer, the batcher and eleven functions', () => {
    const { registrations } = loadBundle(exampleConfig);
    expect(registrations.map((r) => [r.kind, r.name, r.prefix])).toEqual([
      ['keyspace', 'PersonsWriteBehind', 'person:'],
      ['keyspace', 'CarsWriteBehind', 'car:'],
      ['stream', 'batcher', 'wb:changes:'],
      ['function', 'cut', undefined],
      ['function', 'ready', undefined],
      ['function', 'adopt', undefined],
      ['function', 'committed', undefined],
      ['function', 'committed_many', undefined],
      ['function', 'backfill', undefined],
      ['function', 'delete_missing', undefined],
      ['function', 'forget_divergent', undefined],
      ['function', 'recapture', undefined],
      ['function', 'status', undefined],
      ['function', 'version', undefined],
    ]);
    const byName = new Map(registrations.map((r) => [r.name, r]));
    expect(byName.get('batcher')!.options).toMatchObject({ window: 1, isStreamTrimmed: false });
    expect(byName.get('status')!.options['flags']).toEqual(['no-writes']);
    expect(byName.get('version')!.options['flags']).toEqual(['no-writes']);
    expect(byName.get('cut')!.options['flags']).toBeUndefined();
    expect(byName.get('PersonsWriteBehind')!.options['onTriggerFired']).toBeUndefined();
  });

  it('registers a trigger for every writer of a larger config', () => {
    const { registrations } = loadBundle(testConfig());
    expect(registrations.filter((r) => r.kind === 'keyspace').map((r) => r.prefix)).toEqual(['person:', 'order:', 'session:']);
  });

  it('reports the package version from `version`', () => {
    const { registrations } = loadBundle(exampleConfig);
    const version = registrations.find((r) => r.name === 'version')!;
    expect(version.fn({})).toBe(VERSION);
    expect(() => version.fn({}, 'extra')).toThrow('ERR version: expected 0 keys and arguments');
  });

  it('fails the load with a message naming the offending field when the config is invalid', () => {
    expect.assertions(3);
    try {
      loadBundle({ name: 'WriteBehind', writers: [{ name: 'P', keysPrefix: 'person', table: 'persons; drop', primaryKey: 'id', mappings: { a: 'a' } }] });
    } catch (error) {
      expect(typeof error).toBe('string');
      expect(error).toContain('invalid write-behind config');
      expect(error).toContain('writers[0].table');
    }
  });

  it('fails the load without a config (redis.config is {} then)', () => {
    expect(() => loadBundle({})).toThrow(/invalid write-behind config: name: .*writers/);
  });
});
