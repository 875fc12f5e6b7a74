/**
 * Compiles and evaluates a library, as RedisGears' TFUNCTION LOAD does (function_load_command.rs,
 * v8_backend.rs compile_library, v8_native_functions.rs initialize_globals_1_0/1_1): prologue, name check,
 * fresh sandbox, compile, API version, the `redis` global, top-level run under the lock timeout, then the
 * "nothing registered" check. Every failure is thrown as the exact error text of the reply.
 */
import { types } from 'node:util';
import type { Logger } from '../../shared/log.js';
import { ExecutionTerminated, Sandbox } from './sandbox.js';
import { checkApiVersion, LATEST_API_VERSION, nameProblem, parsePrologue } from './prologue.js';
import { FUNCTION_FLAGS, Library, type FunctionFlag, type LibraryMetadata } from './library.js';
import { KeyspaceTrigger } from './keyspace-trigger.js';
import { StreamTrigger } from './stream-trigger.js';
import { isAsyncFunction, isFunction, popOptions, requireString, requireValue } from './native-arguments.js';
import { LibraryClients } from './clients.js';
import { stringForm } from './js-values.js';
import type { HostServices } from './host-services.js';

export interface LoadRequest {
  readonly code: string;
  readonly config: string | null;
  readonly user: string;
  readonly timeoutMs: number;
  /** The library this one replaces (REPLACE): same-named triggers keep their state. */
  readonly previous: Library | null;
  /** A library of this name exists and REPLACE was not given: refused after compiling, before running. */
  readonly rejectExisting: boolean;
}

export interface LoadedLibrary {
  readonly library: Library;
  readonly clients: LibraryClients;
}

/** Checks the prologue and the library name only (what fails before anything is compiled). */
export function readMetadata(code: string, config: string | null, user: string): LibraryMetadata {
  const prologue = parsePrologue(code);
  const problem = nameProblem(prologue.name);
  if (problem !== null) throw `Unallowed library name '${prologue.name}', ${problem}.`;
  if (prologue.engine !== 'js') throw `Unknown backend ${prologue.engine}`;
  return { name: prologue.name, engine: prologue.engine, apiVersion: prologue.apiVersion, code, config, user };
}

export function loadLibrary(request: LoadRequest, services: HostServices): LoadedLibrary {
  const metadata = readMetadata(request.code, request.config, request.user);
  let clients: LibraryClients | null = null;
  const sandbox = new Sandbox({ timeoutMs: request.timeoutMs, defer: (job) => clients?.background(job) });
  let script;
  try {
    script = sandbox.compile(request.code, `${metadata.name}.js`);
    checkApiVersion(metadata.apiVersion);
  } catch (error) {
    throw `Failed to compile library: ${stringForm(error)}`;
  }
  if (request.rejectExisting) throw `Library ${metadata.name} already exists.`;
  const library = new Library(metadata, sandbox);
  clients = new LibraryClients(library, services);
  sandbox.setGlobal('redis', createRedisGlobal(library, request, services.log));
  library.loading = true;
  library.locked = true;
  let completion: unknown;
  try {
    completion = sandbox.runScript(script);
    const rejection = rejectionOf(library, completion);
    if (rejection !== undefined) throw `Failed evaluating module: ${stringForm(rejection)}`;
  } catch (error) {
    library.active = false;
    const message = error instanceof ExecutionTerminated ? error.message : stringForm(error);
    throw `Failed loading library: ${message}.`;
  } finally {
    library.loading = false;
    library.locked = false;
  }
  if (library.functions.size === 0 && library.keyspaceTriggers.size === 0 && library.streamTriggers.size === 0) {
    library.active = false;
    throw 'Neither function nor other registrations were found.';
  }
  return { library, clients };
}

/** The reason a promise completion value was already rejected when the top-level code finished. */
function rejectionOf(library: Library, completion: unknown): unknown {
  if (!types.isPromise(completion)) return undefined;
  let reason: unknown;
  library.sandbox.observe(
    completion as Promise<unknown>,
    () => undefined,
    (error: unknown) => {
      reason = stringForm(error);
    },
  );
  return reason;
}

/** Rust's `str::escape_default`: printable ASCII kept, \t \r \n \' \" \\ escaped, the rest as \u{hex}. */
export function escapeDefault(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '\t') out += '\\t';
    else if (char === '\r') out += '\\r';
    else if (char === '\n') out += '\\n';
    else if (char === "'" || char === '"' || char === '\\') out += `\\${char}`;
    else if (code >= 0x20 && code <= 0x7e) out += char;
    else out += `\\u{${code.toString(16)}}`;
  }
  return out;
}

function createRedisGlobal(library: Library, request: LoadRequest, log: Logger): object {
  const realm = library.sandbox.realm;
  const redis = new realm.Object() as Record<string, unknown>;
  redis['config'] = request.config === null ? new realm.Object() : realm.JSON.parse(request.config);
  const previous = request.previous;

  redis['registerStreamTrigger'] = (...args: unknown[]) => {
    const name = requireString(args, 0);
    const prefixValue = requireValue(args, 1);
    const fn = requireValue(args, 2);
    const options = popOptions(args, 3, 'StreamTriggerOptionalArgs', [['description', 'string'], ['window', 'long'], ['isStreamTrimmed', 'boolean']]);
    if (!isFunction(fn)) throw "The fifth argument to 'registerStreamTrigger' must be a function";
    if (!library.loading) throw "Called 'registerFunction' out of context";
    const window = options?.['window'] === undefined ? 1 : Number(options['window']);
    if (window < 1) throw 'window argument must be a positive number';
    const prefix = prefixBytes(prefixValue);
    if (prefix === null) throw "Second argument to 'registerStreamTrigger' must be a String or ArrayBuffer representing the prefix";
    checkName('stream trigger', name);
    if (library.streamTriggers.has(name)) throw 'Stream registration already exists';
    const old = previous?.streamTriggers.get(name);
    if (old && !old.prefix.equals(prefix)) {
      throw `Can not upgrade an existing consumer with different prefix, consumer: '${name}', old_prefix: ${printable(old.prefix)}, new_prefix: ${printable(prefix)}.`;
    }
    const description = (options?.['description'] as string | undefined) ?? null;
    const trim = (options?.['isStreamTrimmed'] as boolean | undefined) ?? false;
    library.streamTriggers.set(name, new StreamTrigger(name, prefix, fn, isAsyncFunction(fn), window, trim, description, old?.streams));
  };

  redis['registerKeySpaceTrigger'] = (...args: unknown[]) => {
    const name = requireString(args, 0);
    const prefixValue = requireValue(args, 1);
    const fn = requireValue(args, 2);
    const options = popOptions(args, 3, 'NoficationConsumerOptionalArgs', [['onTriggerFired', 'value'], ['description', 'string']]);
    if (!isFunction(fn)) throw "Third argument to 'registerKeySpaceTrigger' must be a function";
    const onTriggerFired = options?.['onTriggerFired'];
    if (onTriggerFired !== undefined && (!isFunction(onTriggerFired) || isAsyncFunction(onTriggerFired))) {
      throw "'onTriggerFired' argument to 'registerKeySpaceTrigger' must be a function";
    }
    if (!library.loading) throw "Called 'registerKeySpaceTrigger' out of context";
    const prefix = prefixBytes(prefixValue);
    if (prefix === null) throw "Second argument to 'registerKeySpaceTrigger' must be a string or ArrayBuffer representing the prefix";
    checkName('key space trigger', name);
    if (library.keyspaceTriggers.has(name)) throw 'Notification consumer already exists';
    const description = (options?.['description'] as string | undefined) ?? null;
    const old = previous?.keyspaceTriggers.get(name);
    library.keyspaceTriggers.set(
      name,
      new KeyspaceTrigger(name, prefix, fn, isAsyncFunction(fn), (onTriggerFired as KeyspaceTrigger['onTriggerFired']) ?? null, description, old?.stats),
    );
  };

  const registerFunction = (isAsync: boolean) => (...args: unknown[]) => {
    const name = requireString(args, 0);
    const fn = requireValue(args, 1);
    const options = popOptions(args, 2, 'NativeFunctionOptionalArgs', [['description', 'string'], ['flags', 'array']]);
    if (!isFunction(fn)) throw "Second argument to 'registerFunction' must be a function";
    if (!isAsync && isAsyncFunction(fn)) throw "'registerFunction' can not be used with async function, use 'registerAsyncFunction' instead.";
    const flags = parseFlags(options?.['flags'] as unknown[] | undefined);
    if (!library.loading) throw "Called 'register_function' out of context";
    checkName('function', name);
    if (library.functions.has(name)) throw `Function ${name} already exists`;
    const description = (options?.['description'] as string | undefined) ?? null;
    library.functions.set(name, { name, callback: fn, isAsync, isCoroutine: isAsyncFunction(fn), flags, description });
  };
  redis['registerFunction'] = registerFunction(false);
  redis['registerAsyncFunction'] = registerFunction(true);

  redis['registerClusterFunction'] = (...args: unknown[]) => {
    const name = requireString(args, 0);
    const fn = requireValue(args, 1);
    if (!isFunction(fn)) throw "Second argument to 'registerClusterFunction' must be a function";
    if (!isAsyncFunction(fn)) throw 'Remote function must be async';
    if (!library.loading) throw "Called 'registerClusterFunction' out of context";
    checkName('cluster function', name);
    if (library.clusterFunctions.has(name)) throw `Remote function ${name} already exists`;
    library.clusterFunctions.set(name, fn);
  };

  redis['v8Version'] = () => process.versions.v8;
  const flags = new realm.Object() as Record<string, string>;
  flags['NO_WRITES'] = FUNCTION_FLAGS.NO_WRITES;
  flags['ALLOW_OOM'] = FUNCTION_FLAGS.ALLOW_OOM;
  flags['RAW_ARGUMENTS'] = FUNCTION_FLAGS.RAW_ARGUMENTS;
  redis['functionFlags'] = flags;
  redis['log'] = (...args: unknown[]) => {
    const message = requireString(args, 0);
    log.info({ library: library.name }, `<redisgears_2> ${escapeDefault(message)}`);
  };
  redis['redisai'] = new realm.Object();
  // Every supported version gets the latest compatible globals, so 1.0 libraries see apiVersion() too.
  redis['apiVersion'] = () => LATEST_API_VERSION;
  return redis;
}

function checkName(kind: string, name: string): void {
  const problem = nameProblem(name);
  if (problem !== null) throw `Unallowed ${kind} name '${name}', ${problem}.`;
}

function prefixBytes(value: unknown): Buffer | null {
  if (typeof value === 'string') return Buffer.from(value);
  if (types.isArrayBuffer(value)) return Buffer.from(new Uint8Array(value));
  return null;
}

function printable(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return Buffer.from(text).equals(bytes) ? text : '[binary data]';
}

const KNOWN_FLAGS = new Set<string>(Object.values(FUNCTION_FLAGS));

/** get_function_flags_from_strings: every element a known flag string. */
function parseFlags(flags: unknown[] | undefined): Set<FunctionFlag> {
  const out = new Set<FunctionFlag>();
  if (flags === undefined) return out;
  for (const flag of flags) {
    if (typeof flag !== 'string') throw 'Failed parsing function flags, wrong type of string value';
    if (!KNOWN_FLAGS.has(flag)) throw `Failed parsing function flags, Unknow flag '${flag}' was given`;
    out.add(flag as FunctionFlag);
  }
  return out;
}

