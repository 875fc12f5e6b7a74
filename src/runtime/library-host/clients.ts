/**
 * The client objects library code gets (v8_native_functions.rs `get_redis_client`, `get_backgrounnd_client`):
 * the sync client (call, callRaw, callAsync, callAsyncRaw, isBlockAllowed, executeAsync) and the async client of
 * coroutines (block, runOnKey, runOnShards). Their methods are host functions that throw plain strings, as the
 * native ones do; their results are built in the library's realm.
 */
import { types } from 'node:util';
import type { RespValue } from '../resp/types.js';
import { ExecutionTerminated } from './sandbox.js';
import { replyToJs, stringForm } from './js-values.js';
import { convertError, isAsyncFunction, requireString } from './native-arguments.js';
import type { HostServices } from './host-services.js';
import type { Library } from './library.js';

export interface ClientOptions {
  /** Database the calls run in: the caller's, or the event's. */
  readonly db: number;
  /** NO_WRITES function, onTriggerFired: write commands are refused. */
  readonly noWrites: boolean;
  /** What isBlockAllowed() answers. */
  readonly allowBlock: boolean;
}

/** A client handed to library code; `invalidate()` once the invocation it was made for has ended. */
export interface ClientHandle {
  readonly client: object;
  invalidate(): void;
}

export class LibraryClients {
  readonly #library: Library;
  readonly #services: HostServices;

  constructor(library: Library, services: HostServices) {
    this.#library = library;
    this.#services = services;
  }

  /**
   * Runs `job` later on the library's background thread: under the runtime's lock, inside the sandbox, after
   * the current command. Errors of the job are logged; the job handles its own promise settlement.
   */
  background(job: () => void, onFailure?: (message: string) => void): void {
    const library = this.#library;
    library.pendingJobs += 1;
    void this.#services.executor
      .runLocked(() => {
        library.pendingJobs -= 1;
        if (!library.active) return onFailure?.('Library was deleted');
        try {
          library.sandbox.invoke(job);
        } catch (error) {
          const message = error instanceof ExecutionTerminated ? error.message : stringForm(error);
          if (onFailure) onFailure(message);
          else this.#services.log.warn({ library: library.name, error: message }, 'background job of the library failed');
        }
      })
      .catch((error: unknown) => this.#services.log.error({ err: error, library: library.name }, 'background job of the library failed'));
  }

  /** A realm promise and its settle functions. */
  deferred(): { promise: Promise<unknown>; resolve: (value: unknown) => void; reject: (error: unknown) => void } {
    let resolve!: (value: unknown) => void;
    let reject!: (error: unknown) => void;
    const promise = new this.#library.sandbox.realm.Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  }

  syncClient(options: ClientOptions): ClientHandle {
    const state = { valid: true, db: options.db };
    const realm = this.#library.sandbox.realm;
    const client = new realm.Object() as Record<string, unknown>;
    const callFunction = (raw: boolean, async: boolean) =>
      (...args: unknown[]): unknown => {
        const command = requireString(args, 0);
        const commandArgs = args.slice(1).map(toCommandBytes);
        if (!this.#library.locked) throw 'Main thread is not locked';
        if (!state.valid) throw 'Used on invalid client';
        const argv = [Buffer.from(command), ...commandArgs];
        if (async) return this.#callAsync(argv, state.db, options.noWrites, raw);
        return replyToJs(this.callSync(argv, state, options.noWrites), realm, raw);
      };
    client['call'] = callFunction(false, false);
    client['callRaw'] = callFunction(true, false);
    client['callAsync'] = callFunction(false, true);
    client['callAsyncRaw'] = callFunction(true, true);
    client['isBlockAllowed'] = () => {
      if (!state.valid) throw 'Used on invalid client';
      return options.allowBlock;
    };
    client['executeAsync'] = (...args: unknown[]): unknown => {
      if (args.length < 1) throw convertError(0, 'V8LocalValue', 'Wrong number of arguments given');
      if (!state.valid) throw "Called 'executeAsync' out of context";
      const fn = args[0];
      if (!isAsyncFunction(fn)) throw "First argument to 'executeAsync' must be an async function";
      const { promise, resolve, reject } = this.deferred();
      const flags = { db: state.db, noWrites: options.noWrites };
      this.background(() => {
        const background = this.asyncClient(flags);
        try {
          const result = (fn as (c: object) => unknown)(background.client);
          resolve(result);
        } catch (error) {
          reject(error);
        }
      });
      return promise;
    };
    client['redisai'] = new realm.Object();
    return {
      client,
      invalidate: () => {
        state.valid = false;
      },
    };
  }

  /** The async client of coroutines; `block` takes the lock (it is already held: background work runs locked). */
  asyncClient(options: { readonly db: number; readonly noWrites: boolean }): ClientHandle {
    const realm = this.#library.sandbox.realm;
    const client = new realm.Object() as Record<string, unknown>;
    client['block'] = (...args: unknown[]): unknown => {
      if (args.length < 1) throw convertError(0, 'V8LocalValue', 'Wrong number of arguments given');
      const fn = args[0];
      if (typeof fn !== 'function') throw "Argument to 'block' must be a function";
      if (this.#library.locked) throw 'Main thread is already blocked';
      const handle = this.syncClient({ db: options.db, noWrites: options.noWrites, allowBlock: true });
      this.#library.locked = true;
      try {
        return (fn as (c: object) => unknown)(handle.client);
      } finally {
        this.#library.locked = false;
        handle.invalidate();
      }
    };
    client['runOnShards'] = (...args: unknown[]): unknown => {
      const name = requireString(args, 0);
      return this.#runRemote(name, args.slice(1), options, true);
    };
    client['runOnKey'] = (...args: unknown[]): unknown => {
      if (args.length < 1) throw convertError(0, 'V8RedisCallArgs', 'Wrong number of arguments.');
      toCommandBytes(args[0]);
      const name = requireString(args, 1);
      return this.#runRemote(name, args.slice(2), options, false);
    };
    return { client, invalidate: () => undefined };
  }

  /**
   * Runs one command for library code, with RM_Call's checks, in `state.db`. A blocking command is wrapped in
   * MULTI/EXEC so it answers at once, as blocking commands do inside RM_Call.
   */
  callSync(argv: Buffer[], state: { db: number }, noWrites: boolean): RespValue {
    const refusal = this.#services.commands.refusal(argv, { noWrites });
    if (refusal !== null) return { type: 'error', value: refusal };
    this.#services.countCall(argv);
    if (argv[0]!.toString().toLowerCase() === 'select') return this.#select(argv, state);
    if (this.#services.commands.isBlocking(argv)) {
      const replies = this.#services.syncRedis.batch([['MULTI'], argv, ['EXEC']], state.db);
      const exec = replies[2]!;
      if (exec.type === 'array' && exec.value.length === 1) return exec.value[0]!;
      return replies[1]!.type === 'error' ? replies[1]! : exec;
    }
    return this.#services.syncRedis.call(argv, state.db);
  }

  /** SELECT only changes this client's database (the shared connection selects per call). */
  #select(argv: Buffer[], state: { db: number }): RespValue {
    const db = Number(argv[1]!.toString());
    const reply = this.#services.syncRedis.call(['SELECT', String(argv[1]!)], state.db);
    if (reply.type !== 'error' && Number.isInteger(db)) state.db = db;
    return reply;
  }

  #callAsync(argv: Buffer[], db: number, noWrites: boolean, raw: boolean): Promise<unknown> {
    const library = this.#library;
    const { promise, resolve, reject } = this.deferred();
    const refusal = this.#services.commands.refusal(argv, { noWrites });
    const pending = { text: argv.map((a) => a.toString('utf8')).join(' ') };
    library.pendingAsyncCalls.add(pending);
    let reply: Promise<RespValue>;
    if (refusal !== null) {
      reply = Promise.resolve({ type: 'error', value: refusal });
    } else if (this.#services.commands.isBlocking(argv) || argv[0]!.toString().toLowerCase() === 'select') {
      // Only a command that may block waits on a connection of its own (its events, when it is served, come
      // from the write that unblocked it).
      this.#services.countCall(null);
      reply = this.#services.pool.call(argv, db);
    } else {
      // RedisGears runs a command that cannot block at once, inside the caller: its keyspace events are the
      // caller's, suppressed like those of client.call. Only the promise settles later.
      this.#services.countCall(argv);
      reply = Promise.resolve(this.#services.syncRedis.call(argv, db));
    }
    reply.then(
      (value) => {
        library.pendingAsyncCalls.delete(pending);
        this.background(() => {
          try {
            resolve(replyToJs(value, library.sandbox.realm, raw));
          } catch (error) {
            reject(error);
          }
        });
      },
      (error: unknown) => {
        library.pendingAsyncCalls.delete(pending);
        this.background(() => reject(stringForm(error instanceof Error ? error.message : error)));
      },
    );
    return promise;
  }

  /** Cluster functions on a single node: the local one runs, with JSON-encoded arguments as RedisGears passes them. */
  #runRemote(name: string, args: unknown[], options: { readonly db: number; readonly noWrites: boolean }, shards: boolean): Promise<unknown> {
    const realm = this.#library.sandbox.realm;
    const encoded = args.map((arg) => (types.isArrayBuffer(arg) ? arg : realm.JSON.stringify(arg)));
    const { promise, resolve, reject } = this.deferred();
    const fn = this.#library.clusterFunctions.get(name);
    this.background(() => {
      const settle = (ok: boolean, value: unknown) => {
        if (!shards) return ok ? resolve(value) : reject(value);
        const results = new realm.Array();
        const errors = new realm.Array();
        (ok ? results : errors).push(value);
        const both = new realm.Array();
        both.push(results, errors);
        resolve(both);
      };
      if (!fn) return settle(false, `Remote function ${name} does not exists`);
      const decoded = encoded.map((arg) => (typeof arg === 'string' ? (arg === undefined ? undefined : realm.JSON.parse(arg)) : arg));
      try {
        const result = fn(this.asyncClient({ db: options.db, noWrites: true }).client, ...decoded) as Promise<unknown>;
        this.#library.sandbox.observe(
          result,
          (value) => settle(true, value),
          (error) => settle(false, stringForm(error)),
        );
      } catch (error) {
        settle(false, stringForm(error));
      }
    });
    return promise;
  }
}

/** A call argument as bytes: strings, String objects and ArrayBuffers only (V8RedisCallArgs). */
function toCommandBytes(value: unknown): Buffer {
  if (typeof value === 'string') return Buffer.from(value);
  if (types.isStringObject(value)) return Buffer.from(String(value));
  if (types.isArrayBuffer(value)) return Buffer.from(new Uint8Array(value));
  throw 'Failed consuming arguments. Can not convert value into bytes buffer.';
}
