/**
 * The client objects library code gets (v8_native_functions.rs `get_redis_client`, `get_backgrounnd_client`),
 * built inside the isolate: the sync client (call, callRaw, callAsync, callAsyncRaw, isBlockAllowed,
 * executeAsync) and the async client of coroutines (block, runOnKey, runOnShards). Their methods throw plain
 * strings, as the native ones do. Each client is only an id on the host side, where the database, the no-writes
 * rule and the user of its calls live.
 */
import { isArrayBuffer } from './bytes.js';
import type { GuestState } from './guest-state.js';
import { convertError, requireString } from './native-arguments.js';
import { ClientKind } from './protocol.js';
import { readReply } from './reply-reader.js';
import { isAsyncFunction, isStringObject, stringForm, whenSettled } from './types.js';

const IntrinsicString = String;
const stringify = JSON.stringify;
const parse = JSON.parse;

export interface ClientHandle {
  readonly client: object;
  invalidate(): void;
}

export class GuestClients {
  constructor(
    readonly state: GuestState,
    /** Cluster functions by name (filled while loading). */
    readonly clusterFunctions: Record<string, (...args: unknown[]) => unknown>,
  ) {}

  /** A sync client for host client `clientId`; `invalidate()` once the invocation it was made for has ended. */
  syncClient(clientId: number, allowBlock: boolean): ClientHandle {
    const { state } = this;
    let valid = true;
    const callFunction = (raw: boolean, async: boolean) =>
      (...args: unknown[]): unknown => {
        const argv: (string | ArrayBuffer)[] = [requireString(args, 0)];
        for (let i = 1; i < args.length; i++) argv[i] = commandArgument(args[i]);
        if (!state.locked) throw 'Main thread is not locked';
        if (!valid) throw 'Used on invalid client';
        if (async) {
          const callId = state.host.callAsync(clientId, argv);
          if (typeof callId === 'string') throw callId;
          return state.awaitCall(callId, raw);
        }
        return readReply(state.host.call(clientId, argv), raw);
      };
    const client = {
      call: callFunction(false, false),
      callRaw: callFunction(true, false),
      callAsync: callFunction(false, true),
      callAsyncRaw: callFunction(true, true),
      isBlockAllowed: () => {
        if (!valid) throw 'Used on invalid client';
        return allowBlock;
      },
      executeAsync: (...args: unknown[]): unknown => {
        if (args.length < 1) throw convertError(0, 'V8LocalValue', 'Wrong number of arguments given');
        if (!valid) throw "Called 'executeAsync' out of context";
        const fn = args[0];
        if (!isAsyncFunction(fn)) throw "First argument to 'executeAsync' must be an async function";
        const settle = state.resolvers();
        const principal = state.host.openClient(ClientKind.PRINCIPAL_OF, clientId) as number;
        state.defer(() => {
          try {
            settle.resolve((fn as (c: object) => unknown)(this.asyncClient(principal)));
          } catch (error) {
            settle.reject(error);
          }
        });
        return settle.promise;
      },
      redisai: {},
    };
    return {
      client,
      invalidate: () => {
        valid = false;
      },
    };
  }

  /** The async client of coroutines, for host principal `principal`; `block` takes the lock. */
  asyncClient(principal: number): object {
    const { state } = this;
    return {
      block: (...args: unknown[]): unknown => {
        if (args.length < 1) throw convertError(0, 'V8LocalValue', 'Wrong number of arguments given');
        const fn = args[0];
        if (typeof fn !== 'function') throw "Argument to 'block' must be a function";
        if (state.locked) throw 'Main thread is already blocked';
        const clientId = state.host.openClient(ClientKind.SYNC_OF, principal);
        if (typeof clientId === 'string') throw clientId;
        const handle = this.syncClient(clientId, true);
        state.locked = true;
        try {
          return (fn as (c: object) => unknown)(handle.client);
        } finally {
          state.locked = false;
          handle.invalidate();
          state.host.closeClient(clientId);
        }
      },
      runOnShards: (...args: unknown[]): unknown => {
        const name = requireString(args, 0);
        return this.#runRemote(name, args.slice(1), principal, true);
      },
      runOnKey: (...args: unknown[]): unknown => {
        if (args.length < 1) throw convertError(0, 'V8RedisCallArgs', 'Wrong number of arguments.');
        commandArgument(args[0]);
        const name = requireString(args, 1);
        return this.#runRemote(name, args.slice(2), principal, false);
      },
    };
  }

  /** Cluster functions on a single node: the local one runs, with JSON-encoded arguments as RedisGears passes them. */
  #runRemote(name: string, args: unknown[], principal: number, shards: boolean): Promise<unknown> {
    const { state } = this;
    const encoded = args.map((arg) => (isArrayBuffer(arg) ? arg : (stringify(arg) as string | undefined)));
    const settle = state.resolvers();
    const fn = this.clusterFunctions[name];
    state.defer(() => {
      const finish = (ok: boolean, value: unknown) => {
        if (!shards) return ok ? settle.resolve(value) : settle.reject(value);
        settle.resolve(ok ? [[value], []] : [[], [value]]);
      };
      if (!fn) return finish(false, `Remote function ${name} does not exists`);
      const decoded = encoded.map((arg) => (typeof arg === 'string' ? parse(arg) : arg));
      try {
        const client = this.asyncClient(state.host.openClient(ClientKind.NO_WRITES_OF, principal) as number);
        whenSettled(
          fn(client, ...decoded) as Promise<unknown>,
          (value) => finish(true, value),
          (error) => finish(false, stringForm(error)),
        );
      } catch (error) {
        finish(false, stringForm(error));
      }
    });
    return settle.promise;
  }
}

/** A call argument: strings, String objects and ArrayBuffers only (V8RedisCallArgs). */
function commandArgument(value: unknown): string | ArrayBuffer {
  if (typeof value === 'string') return value;
  // ArrayBuffer first: a brand check that fails costs an exception, and String objects are the rare case.
  if (isArrayBuffer(value)) return value;
  if (isStringObject(value)) return IntrinsicString(value);
  throw 'Failed consuming arguments. Can not convert value into bytes buffer.';
}
