/**
 * The `redis` global (v8_native_functions.rs initialize_globals_1_0/1_1), built inside the isolate: the
 * registration functions with RedisGears' argument rules and error texts, `config`, `log`, `functionFlags`,
 * `v8Version` and `apiVersion`. What is registered is kept here (the callbacks never leave the isolate) and
 * reported to the host as plain registrations.
 */
import { encodeUtf8, decodeUtf8, fromArrayBuffer, isArrayBuffer } from './bytes.js';
import type { GuestState } from './guest-state.js';
import { isAsyncFunction, isFunction, popOptions, requireString, requireValue } from './native-arguments.js';
import { Kind, type Registration } from './protocol.js';

export const FUNCTION_FLAGS = { NO_WRITES: 'no-writes', ALLOW_OOM: 'allow-oom', RAW_ARGUMENTS: 'raw-arguments' } as const;
const KNOWN_FLAGS = [FUNCTION_FLAGS.NO_WRITES, FUNCTION_FLAGS.ALLOW_OOM, FUNCTION_FLAGS.RAW_ARGUMENTS] as string[];
const LATEST_API_VERSION = '1.1';
const create = Object.create;
const parse = JSON.parse;

type Callback = (...args: unknown[]) => unknown;

export interface RegisteredFunction {
  readonly callback: Callback;
  readonly isCoroutine: boolean;
  readonly raw: boolean;
}

export interface RegisteredTrigger {
  readonly callback: Callback;
  readonly onTriggerFired: Callback | null;
  /** An async function: it runs on the background thread with an async client. */
  readonly isAsync: boolean;
}

/** Everything a library registered, by the index the host calls it with. */
export class Registry {
  readonly functions: RegisteredFunction[] = [];
  readonly keyspaceTriggers: RegisteredTrigger[] = [];
  readonly streamTriggers: RegisteredTrigger[] = [];
  readonly clusterFunctions: Record<string, Callback> = create(null);
  readonly registrations: Registration[] = [];
  readonly #names: Record<string, true> = create(null);

  /** Whether `name` is taken in `kind`'s namespace (functions of both kinds share one). */
  taken(kind: string, name: string): boolean {
    return this.#names[`${kind}\n${name}`] === true;
  }

  take(kind: string, name: string): void {
    this.#names[`${kind}\n${name}`] = true;
  }
}

export interface RedisApiOptions {
  readonly config: string | null;
  readonly v8Version: string;
  /** Prefix bytes (latin1) of the stream triggers of the library this load replaces, by name. */
  readonly previousStreamPrefixes: Record<string, string>;
}

export function createRedisApi(state: GuestState, registry: Registry, options: RedisApiOptions): object {
  const registerFunction = (isAsync: boolean) => (...args: unknown[]) => {
    const name = requireString(args, 0);
    const fn = requireValue(args, 1);
    const opts = popOptions(args, 2, 'NativeFunctionOptionalArgs', [['description', 'string'], ['flags', 'array']]);
    if (!isFunction(fn)) throw "Second argument to 'registerFunction' must be a function";
    if (!isAsync && isAsyncFunction(fn)) throw "'registerFunction' can not be used with async function, use 'registerAsyncFunction' instead.";
    const flags = parseFlags(opts?.['flags'] as unknown[] | undefined);
    if (!state.loading) throw "Called 'register_function' out of context";
    checkName('function', name);
    if (registry.taken('function', name)) throw `Function ${name} already exists`;
    registry.take('function', name);
    const description = (opts?.['description'] as string | undefined) ?? null;
    const index = registry.functions.length;
    registry.functions[index] = { callback: fn, isCoroutine: isAsyncFunction(fn), raw: flags.includes(FUNCTION_FLAGS.RAW_ARGUMENTS) };
    registry.registrations[registry.registrations.length] = [
      isAsync ? Kind.ASYNC_FUNCTION : Kind.FUNCTION, name, index, isAsyncFunction(fn), flags, description, null, 0, false, false,
    ];
  };

  return {
    config: options.config === null ? {} : parse(options.config),
    registerStreamTrigger: (...args: unknown[]) => {
      const name = requireString(args, 0);
      const prefixValue = requireValue(args, 1);
      const fn = requireValue(args, 2);
      const opts = popOptions(args, 3, 'StreamTriggerOptionalArgs', [['description', 'string'], ['window', 'long'], ['isStreamTrimmed', 'boolean']]);
      if (!isFunction(fn)) throw "The fifth argument to 'registerStreamTrigger' must be a function";
      if (!state.loading) throw "Called 'registerFunction' out of context";
      const window = opts?.['window'] === undefined ? 1 : Number(opts['window']);
      if (window < 1) throw 'window argument must be a positive number';
      const prefix = prefixBytes(prefixValue);
      if (prefix === null) throw "Second argument to 'registerStreamTrigger' must be a String or ArrayBuffer representing the prefix";
      checkName('stream trigger', name);
      if (registry.taken('stream', name)) throw 'Stream registration already exists';
      const old = options.previousStreamPrefixes[name];
      if (old !== undefined && old !== prefix) {
        throw `Can not upgrade an existing consumer with different prefix, consumer: '${name}', old_prefix: ${printable(old)}, new_prefix: ${printable(prefix)}.`;
      }
      registry.take('stream', name);
      const description = (opts?.['description'] as string | undefined) ?? null;
      const trim = (opts?.['isStreamTrimmed'] as boolean | undefined) ?? false;
      const index = registry.streamTriggers.length;
      registry.streamTriggers[index] = { callback: fn, onTriggerFired: null, isAsync: isAsyncFunction(fn) };
      registry.registrations[registry.registrations.length] = [Kind.STREAM_TRIGGER, name, index, isAsyncFunction(fn), [], description, prefix, window, trim, false];
    },
    registerKeySpaceTrigger: (...args: unknown[]) => {
      const name = requireString(args, 0);
      const prefixValue = requireValue(args, 1);
      const fn = requireValue(args, 2);
      const opts = popOptions(args, 3, 'NoficationConsumerOptionalArgs', [['onTriggerFired', 'value'], ['description', 'string']]);
      if (!isFunction(fn)) throw "Third argument to 'registerKeySpaceTrigger' must be a function";
      const onTriggerFired = opts?.['onTriggerFired'];
      if (onTriggerFired !== undefined && (!isFunction(onTriggerFired) || isAsyncFunction(onTriggerFired))) {
        throw "'onTriggerFired' argument to 'registerKeySpaceTrigger' must be a function";
      }
      if (!state.loading) throw "Called 'registerKeySpaceTrigger' out of context";
      const prefix = prefixBytes(prefixValue);
      if (prefix === null) throw "Second argument to 'registerKeySpaceTrigger' must be a string or ArrayBuffer representing the prefix";
      checkName('key space trigger', name);
      if (registry.taken('keyspace', name)) throw 'Notification consumer already exists';
      registry.take('keyspace', name);
      const description = (opts?.['description'] as string | undefined) ?? null;
      const index = registry.keyspaceTriggers.length;
      registry.keyspaceTriggers[index] = { callback: fn, onTriggerFired: (onTriggerFired as Callback | undefined) ?? null, isAsync: isAsyncFunction(fn) };
      registry.registrations[registry.registrations.length] = [
        Kind.KEYSPACE_TRIGGER, name, index, isAsyncFunction(fn), [], description, prefix, 0, false, onTriggerFired !== undefined,
      ];
    },
    registerFunction: registerFunction(false),
    registerAsyncFunction: registerFunction(true),
    registerClusterFunction: (...args: unknown[]) => {
      const name = requireString(args, 0);
      const fn = requireValue(args, 1);
      if (!isFunction(fn)) throw "Second argument to 'registerClusterFunction' must be a function";
      if (!isAsyncFunction(fn)) throw 'Remote function must be async';
      if (!state.loading) throw "Called 'registerClusterFunction' out of context";
      checkName('cluster function', name);
      if (registry.taken('cluster', name)) throw `Remote function ${name} already exists`;
      registry.take('cluster', name);
      registry.clusterFunctions[name] = fn;
      registry.registrations[registry.registrations.length] = [Kind.CLUSTER_FUNCTION, name, 0, true, [], null, null, 0, false, false];
    },
    v8Version: () => options.v8Version,
    functionFlags: { NO_WRITES: FUNCTION_FLAGS.NO_WRITES, ALLOW_OOM: FUNCTION_FLAGS.ALLOW_OOM, RAW_ARGUMENTS: FUNCTION_FLAGS.RAW_ARGUMENTS },
    log: (...args: unknown[]) => {
      state.host.log(requireString(args, 0));
    },
    redisai: {},
    // Every supported version gets the latest compatible globals, so 1.0 libraries see apiVersion() too.
    apiVersion: () => LATEST_API_VERSION,
  };
}

/** verify_name: `[A-Za-z0-9_]+`. */
function checkName(kind: string, name: string): void {
  let problem: string | null = null;
  if (name.length === 0) problem = 'Empty name is not allowed';
  else {
    for (const c of name) {
      const code = c.charCodeAt(0);
      const ok = c.length === 1 && ((code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95);
      if (!ok) {
        problem = `Unallowed char was given '${c}'`;
        break;
      }
    }
  }
  if (problem !== null) throw `Unallowed ${kind} name '${name}', ${problem}.`;
}

/** Prefix bytes (latin1) of a string or ArrayBuffer prefix, else null. */
function prefixBytes(value: unknown): string | null {
  if (typeof value === 'string') return encodeUtf8(value);
  if (isArrayBuffer(value)) return fromArrayBuffer(value);
  return null;
}

function printable(bytes: string): string {
  return decodeUtf8(bytes) ?? '[binary data]';
}

/** get_function_flags_from_strings: every element a known flag string. */
function parseFlags(flags: unknown[] | undefined): string[] {
  const out: string[] = [];
  if (flags === undefined) return out;
  for (const flag of flags) {
    if (typeof flag !== 'string') throw 'Failed parsing function flags, wrong type of string value';
    if (!KNOWN_FLAGS.includes(flag)) throw `Failed parsing function flags, Unknow flag '${flag}' was given`;
    if (!out.includes(flag)) out[out.length] = flag;
  }
  return out;
}
