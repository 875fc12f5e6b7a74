/**
 * The guest runtime: runs inside each library's isolate before the library, takes the host's callbacks from
 * the globals, trims the globals to RedisGears' allow-list, replaces Promise, and leaves one dispatch function
 * for the host. Every value the library sees is made here, in the isolate's realm; every value the host gets
 * back is a primitive, an ArrayBuffer or an array of those, converted here under the lock timeout.
 *
 * Bundled by build/build.mjs into src/generated/guest-source.ts. Strict mode throughout, so call sites of
 * Error.prepareStackTrace and `caller` chains never hand out guest functions or their receivers.
 */
import { ALLOWED_GLOBALS } from './allowed-globals.js';
import { decodeUtf8, toArrayBuffer } from './bytes.js';
import { GuestClients } from './clients.js';
import { GuestState } from './guest-state.js';
import { GUEST_DISPATCH, GUEST_HOOKS, HOST_GLOBALS, Op, Phase, STOP, Status, type DispatchResult, type GuestBytes, type GuestOutcome, type HostChannel, type IsolateHooks } from './protocol.js';
import { createRedisApi, Registry, type RegisteredTrigger } from './redis-api.js';
import { readReply } from './reply-reader.js';
import { ConversionError, toReply } from './reply-writer.js';
import { isPromise, stringForm, whenSettled } from './types.js';
import { UnhandledRejections } from './unhandled-rejections.js';

const global = globalThis as unknown as Record<string, unknown>;
const IntrinsicBigInt = BigInt;
const create = Object.create;

const hooks = take<IsolateHooks>(GUEST_HOOKS);
/** The host's call, callAsync and log, which answer STOP once the lock timeout has passed (protocol.ts). */
const hostCall = take<(clientId: number, argv: (string | ArrayBuffer)[]) => GuestBytes | typeof STOP>(HOST_GLOBALS.call);
const hostCallAsync = take<(clientId: number, argv: (string | ArrayBuffer)[]) => number | string | typeof STOP>(HOST_GLOBALS.callAsync);
const hostLog = take<(message: string) => void | typeof STOP>(HOST_GLOBALS.log);
const host: HostChannel = {
  call: (clientId, argv) => {
    const reply = hostCall(clientId, argv);
    return reply === STOP ? stop() : reply;
  },
  callAsync: (clientId, argv) => {
    const callId = hostCallAsync(clientId, argv);
    return callId === STOP ? stop() : callId;
  },
  schedule: take(HOST_GLOBALS.schedule),
  settled: take(HOST_GLOBALS.settled),
  openClient: take(HOST_GLOBALS.openClient),
  closeClient: take(HOST_GLOBALS.closeClient),
  log: (message) => {
    if (hostLog(message) === STOP) stop();
  },
  rejected: take(HOST_GLOBALS.rejected),
};
const rejections = new UnhandledRejections(hooks, host);
for (const name of Object.getOwnPropertyNames(global)) if (!ALLOWED_GLOBALS.has(name)) delete global[name];

const state = new GuestState(host);
const registry = new Registry();
const clients = new GuestClients(state, registry.clusterFunctions);
global['Promise'] = state.nativePromise();
/** Event data of keyspace triggers between onTriggerFired and the callback (they share one object), by host id. */
const eventData: Record<number, object> = create(null);
let loadOutcome: GuestOutcome = [Status.OK, null];
/** The library's top level, compiled by Op.COMPILE, until Op.LOAD runs it. */
let compiled: (() => unknown) | null = null;

/**
 * The lock timeout passed while the host ran a call of library code: terminated here, as soon as the call is
 * back in JavaScript (RedisGears: V8's termination lands once RM_Call returns). V8 serves the termination at its
 * next interrupt check, which the loop makes the next thing that runs; no catch or finally of library code runs.
 */
function stop(): never {
  hooks.terminate();
  for (;;);
}

function take<T>(name: string): T {
  const value = global[name] as T;
  delete global[name];
  return value;
}

function dispatch(op: number, ...args: unknown[]): DispatchResult {
  // Called without a timeout: runs no library code, and no microtask (there is none before the load).
  if (op === Op.COMPILE) return compact(compile(args[0] as string, args[1] as string));
  // No invocation is nested in another: a lock left held by code the timeout terminated (finally blocks do not run then) is released.
  state.locked = false;
  const outcome = run(op, args);
  // The microtasks of this call and its unhandled rejections, inside the call's lock timeout.
  rejections.settle();
  return compact(outcome);
}

function compact(outcome: GuestOutcome): DispatchResult {
  return outcome[0] === Status.OK && outcome[1] === null ? null : outcome;
}

/** Runs one operation; the argument lists are documented with Op (protocol.ts). */
function run(op: number, args: unknown[]): GuestOutcome {
  switch (op) {
    case Op.LOAD:
      return load(...(args as [string | null, Record<string, string>, string]));
    case Op.LOADED:
      return finishLoad();
    case Op.FUNCTION:
      return callFunction(...(args as [number, number, boolean, GuestBytes[], number]));
    case Op.KEYSPACE:
      return keyspace(...(args as [number, number, number, number, string, GuestBytes, number]));
    case Op.STREAM:
      return stream(...(args as [number, number, GuestBytes, string, GuestBytes[], number]));
    case Op.JOB:
      try {
        state.runJob(args[0] as number);
        return [Status.OK, null];
      } catch (error) {
        return [Status.ERROR, stringForm(error)];
      }
    case Op.CALL_REPLY: {
      const call = state.takeCall(args[0] as number);
      if (!call) return [Status.OK, null];
      try {
        call.settle.resolve(readReply(args[1] as GuestBytes, call.raw));
      } catch (error) {
        call.settle.reject(error);
      }
      return [Status.OK, null];
    }
    default:
      return [Status.ERROR, `unknown operation ${op}`];
  }
}

/** Compiles the library (RedisGears: before the lock clock starts); Op.LOAD runs it. */
function compile(code: string, filename: string): GuestOutcome {
  try {
    compiled = hooks.compile(code, filename);
    return [Status.OK, null];
  } catch (error) {
    return [Status.ERROR, stringForm(error)];
  }
}

/** Runs the library's compiled top-level code; its completion value, if a promise, is checked by Op.LOADED. */
function load(config: string | null, previousStreamPrefixes: Record<string, string>, v8Version: string): GuestOutcome {
  const run = compiled;
  compiled = null;
  if (run === null) return [Status.ERROR, 'the library was not compiled'];
  global['redis'] = createRedisApi(state, registry, { config, v8Version, previousStreamPrefixes });
  state.loading = true;
  state.locked = true;
  loadOutcome = [Status.OK, null];
  try {
    const completion = run();
    if (isPromise(completion)) {
      whenSettled(completion, () => undefined, (error) => {
        loadOutcome = [Status.ERROR, `Failed evaluating module: ${stringForm(error)}`];
      });
    }
    return [Status.OK, null];
  } catch (error) {
    return [Status.ERROR, stringForm(error)];
  }
}

/** Ends the load once its microtasks ran: the registrations, or why the load failed. */
function finishLoad(): GuestOutcome {
  state.loading = false;
  state.locked = false;
  if (loadOutcome[0] !== Status.OK) return loadOutcome;
  return [Status.OK, registry.registrations as never];
}

function convertArgument(arg: GuestBytes, raw: boolean): unknown {
  return raw ? toArrayBuffer(arg) : decodeUtf8(arg);
}

function callFunction(index: number, clientId: number, allowBlock: boolean, args: GuestBytes[], token: number): GuestOutcome {
  const fn = registry.functions[index]!;
  const jsArgs: unknown[] = [];
  for (let i = 0; i < args.length; i++) {
    const value = convertArgument(args[i]!, fn.raw);
    if (value === null) return [Status.ERROR, 'Can not convert argument to string'];
    jsArgs[i] = value;
  }
  if (fn.isCoroutine) return settle(() => fn.callback(clients.asyncClient(clientId), ...jsArgs), token, true);
  return locked(clientId, allowBlock, (client) => fn.callback(client, ...jsArgs), token, true);
}

function keyspace(index: number, phase: number, clientId: number, dataId: number, event: string, key: GuestBytes, token: number): GuestOutcome {
  const trigger = registry.keyspaceTriggers[index]!;
  if (phase === Phase.ON_TRIGGER_FIRED) {
    const data = (eventData[dataId] = eventObject(event, key));
    const outcome = locked(clientId, true, (client) => trigger.onTriggerFired!(client, data), token, false);
    if (outcome[0] === Status.ERROR) delete eventData[dataId];
    return outcome;
  }
  let data = eventData[dataId];
  // Most triggers have no onTriggerFired: nothing was kept, and deleting a missing key still costs a runtime call.
  if (data === undefined) data = eventObject(event, key);
  else delete eventData[dataId];
  return runTrigger(trigger, clientId, data, token);
}

function stream(index: number, clientId: number, key: GuestBytes, id: string, fields: GuestBytes[], token: number): GuestOutcome {
  const trigger = registry.streamTriggers[index]!;
  const dash = id.indexOf('-');
  const record: unknown[] = [];
  const recordRaw: unknown[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    record[record.length] = [decodeUtf8(fields[i]!), decodeUtf8(fields[i + 1]!)];
    recordRaw[recordRaw.length] = [toArrayBuffer(fields[i]!), toArrayBuffer(fields[i + 1]!)];
  }
  const data = {
    id: [idPart(id.slice(0, dash)), idPart(id.slice(dash + 1))],
    stream_name: decodeUtf8(key),
    stream_name_raw: toArrayBuffer(key),
    record,
    record_raw: recordRaw,
  };
  return runTrigger(trigger, clientId, data, token);
}

/** A trigger callback: a sync one with a sync client under the lock, an async one with an async client (clientId is then a principal). */
function runTrigger(trigger: RegisteredTrigger, clientId: number, data: object, token: number): GuestOutcome {
  if (trigger.isAsync) return settle(() => trigger.callback(clients.asyncClient(clientId), data), token, false);
  return locked(clientId, true, (client) => trigger.callback(client, data), token, false);
}

/** A part of a stream id as a BigInt: up to 15 digits through a Number, which V8 makes a BigInt faster than it parses one. */
function idPart(digits: string): bigint {
  return IntrinsicBigInt(digits.length <= 15 ? +digits : digits);
}

function eventObject(event: string, key: GuestBytes): object {
  return { event, key: decodeUtf8(key), key_raw: toArrayBuffer(key) };
}

/** Runs `call` with a sync client holding "the Redis lock"; the client is invalid once it returned. */
function locked(clientId: number, allowBlock: boolean, call: (client: object) => unknown, token: number, convert: boolean): GuestOutcome {
  const handle = clients.syncClient(clientId, allowBlock);
  state.locked = true;
  try {
    return settle(() => call(handle.client), token, convert);
  } finally {
    state.locked = false;
    handle.invalidate();
  }
}

/** Calls `call` and reports its outcome: thrown values as text, promises followed under `token`, values converted. */
function settle(call: () => unknown, token: number, convert: boolean): GuestOutcome {
  let value: unknown;
  try {
    value = call();
  } catch (error) {
    return [Status.ERROR, stringForm(error)];
  }
  if (isPromise(value)) {
    state.follow(value, token, convert);
    return [Status.PENDING, token];
  }
  if (!convert) return [Status.OK, null];
  try {
    return [Status.OK, toReply(value)];
  } catch (failure) {
    return [Status.ERROR, failure instanceof ConversionError ? failure.message : stringForm(failure)];
  }
}

global[GUEST_DISPATCH] = dispatch;
