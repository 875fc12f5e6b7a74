/**
 * One library's V8 context: only the globals RedisGears allows (v8_backend.rs GLOBALS_ALLOW_DENY_LISTS), its own
 * microtask queue, and a lock timeout on every entry into library code.
 *
 * Every call into the library goes through one precompiled script run with vm's `timeout`, so an endless loop
 * is terminated (as V8's TerminateExecution under `lock-redis-timeout`), and the context's microtasks drain at
 * the end of that run (`microtaskMode: 'afterEvaluate'`): promise continuations of library code therefore run
 * only inside an invocation, i.e. while the caller holds the runtime's lock.
 */
import vm from 'node:vm';
import { types } from 'node:util';
import { convertError } from './native-arguments.js';

/** Globals kept in the context; everything else is deleted before the library is compiled. */
export const ALLOWED_GLOBALS: ReadonlySet<string> = new Set([
  'Object', 'Function', 'Array', 'Number', 'parseFloat', 'parseInt', 'Infinity', 'NaN', 'undefined', 'Boolean', 'String',
  'Symbol', 'Date', 'Promise', 'RegExp', 'Error', 'AggregateError', 'RangeError', 'ReferenceError', 'SyntaxError',
  'TypeError', 'URIError', 'globalThis', 'JSON', 'Math', 'Intl', 'ArrayBuffer', 'Uint8Array', 'Int8Array', 'Uint16Array',
  'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array', 'Float64Array', 'Uint8ClampedArray', 'BigUint64Array',
  'BigInt64Array', 'DataView', 'Map', 'Set', 'WeakMap', 'WeakSet', 'BigInt', 'Proxy', 'Reflect', 'FinalizationRegistry',
  'WeakRef', 'decodeURI', 'decodeURIComponent', 'encodeURI', 'encodeURIComponent', 'escape', 'unescape', 'isFinite',
  'isNaN', 'console', 'Iterator',
  // WebAssembly is on RedisGears' allow-list but hidden by its default V8 flag --noexpose-wasm, so it is not kept.
]);

/** The lexical binding the invocation script reaches the host through (not a property of globalThis). */
const HOOK_NAME = '__redisgears_runtime_invoke__';
const INVOKE_SCRIPT = new vm.Script(`${HOOK_NAME}.run()`, { filename: 'redisgears-runtime:invoke' });

type Observer = (promise: unknown, onFulfilled: (value: unknown) => void, onRejected: (error: unknown) => void) => void;

/** Thrown by `invoke` when the lock timeout terminated library code. */
export class ExecutionTerminated extends Error {
  constructor() {
    super('Err Execution was terminated due to OOM or timeout');
    this.name = 'ExecutionTerminated';
  }
}

/** Constructors of the context's realm: values handed to library code are made with these. */
export interface RealmIntrinsics {
  readonly Array: ArrayConstructor;
  readonly Object: ObjectConstructor;
  readonly Set: SetConstructor;
  readonly Uint8Array: Uint8ArrayConstructor;
  readonly String: StringConstructor;
  readonly Promise: PromiseConstructor;
  readonly JSON: JSON;
}

export interface SandboxOptions {
  /** lock-redis-timeout in ms. */
  readonly timeoutMs: number;
  /**
   * Runs a job later on the library's "background thread" (under the runtime's lock). The replaced global
   * `Promise` settles through it, as RedisGears' native Promise does.
   */
  readonly defer: (job: () => void) => void;
}

export class Sandbox {
  readonly context: vm.Context;
  readonly realm: RealmIntrinsics;
  readonly #hook: { run: (() => void) | null };
  readonly #observe: Observer;
  readonly #options: SandboxOptions;
  #depth = 0;

  constructor(options: SandboxOptions) {
    this.#options = options;
    this.context = vm.createContext({}, { microtaskMode: 'afterEvaluate', name: 'redisgears-library' });
    this.realm = vm.runInContext('({ Array, Object, Set, Uint8Array, String, Promise, JSON })', this.context) as RealmIntrinsics;
    const names = vm.runInContext('Object.getOwnPropertyNames(globalThis)', this.context) as string[];
    const global = vm.runInContext('globalThis', this.context) as Record<string, unknown>;
    for (const name of names) {
      if (!ALLOWED_GLOBALS.has(name)) delete global[name];
    }
    // Reactions created in the context's realm queue on the context's microtask queue, which drains only at the
    // end of an invoke (under the lock); `then` and `apply` are taken before library code can replace them.
    this.#observe = vm.runInContext(
      '(() => { const apply = Reflect.apply, then = Promise.prototype.then; return (p, f, r) => { apply(then, p, [(v) => f(v), (e) => r(e)]); }; })()',
      this.context,
    ) as Observer;
    global['Promise'] = this.#nativePromise();
    this.#hook = vm.runInContext(`const ${HOOK_NAME} = { run: null }; ${HOOK_NAME}`, this.context) as { run: (() => void) | null };
  }

  /** Compiles the library as a classic script; a SyntaxError propagates. */
  compile(code: string, filename: string): vm.Script {
    return new vm.Script(code, { filename });
  }

  setGlobal(name: string, value: unknown): void {
    (vm.runInContext('globalThis', this.context) as Record<string, unknown>)[name] = value;
  }

  /** Runs the library's top-level code under the timeout and returns its completion value. */
  runScript(script: vm.Script): unknown {
    return this.#guard(() => script.runInContext(this.context, { timeout: this.#options.timeoutMs }));
  }

  /**
   * Runs `fn` (host code that calls into library code) inside the context under the lock timeout; microtasks
   * queued meanwhile drain before it returns. Nested calls run directly inside the outer invocation.
   */
  invoke<T>(fn: () => T): T {
    if (this.#depth > 0) return fn();
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | null = null;
    this.#hook.run = () => {
      try {
        outcome = { ok: true, value: fn() };
      } catch (error) {
        outcome = { ok: false, error };
      }
    };
    this.#guard(() => INVOKE_SCRIPT.runInContext(this.context, { timeout: this.#options.timeoutMs }));
    this.#hook.run = null;
    const result = outcome as { ok: true; value: T } | { ok: false; error: unknown } | null;
    if (result === null) throw new ExecutionTerminated();
    if (!result.ok) throw result.error;
    return result.value;
  }

  /**
   * Calls back when a promise of library code settles. The reactions run in the context's microtask drain, i.e.
   * inside an invoke: already settled promises report before the invoke that observes them returns. A reaction
   * made by host code would run on Node's own queue instead, later and outside the runtime's lock.
   */
  observe(promise: Promise<unknown>, onFulfilled: (value: unknown) => void, onRejected: (error: unknown) => void): void {
    this.invoke(() => this.#observe(promise, onFulfilled, onRejected));
  }

  #guard<T>(run: () => T): T {
    this.#depth += 1;
    try {
      return run();
    } catch (error) {
      if (isTimeout(error)) throw new ExecutionTerminated();
      throw error;
    } finally {
      this.#depth -= 1;
    }
  }

  /**
   * RedisGears replaces the global Promise with a plain native function: `new Promise(fn)` works (fn must be a
   * non-async function, else "Bad argument to 'Promise' function"), resolve/reject settle later on the background
   * thread, and there are no statics (Promise.all, Promise.resolve…).
   */
  #nativePromise(): (executor: unknown) => Promise<unknown> {
    const IntrinsicPromise = this.realm.Promise;
    const defer = this.#options.defer;
    // Every native function of RedisGears takes its declared arguments: Promise(fn), resolve(v) and reject(e) each need one.
    const required = (args: readonly unknown[]) => {
      if (args.length < 1) throw convertError(0, 'V8LocalValue', 'Wrong number of arguments given');
    };
    return function Promise(...args: unknown[]): Promise<unknown> {
      required(args);
      const executor = args[0];
      if (typeof executor !== 'function' || types.isAsyncFunction(executor)) throw "Bad argument to 'Promise' function";
      let settle!: { resolve: (v: unknown) => void; reject: (e: unknown) => void };
      const promise = new IntrinsicPromise((resolve, reject) => {
        settle = { resolve, reject };
      });
      let done = false;
      const once = (action: (v: unknown) => void) => (...values: unknown[]) => {
        required(values);
        if (done) return;
        done = true;
        defer(() => action(values[0]));
      };
      (executor as (resolve: (v: unknown) => void, reject: (e: unknown) => void) => void)(once(settle.resolve), once(settle.reject));
      return promise;
    } as (executor: unknown) => Promise<unknown>;
  }
}

function isTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}
