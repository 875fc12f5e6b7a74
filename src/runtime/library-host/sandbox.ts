/**
 * One library's V8 isolate (isolated-vm): its own heap with a memory limit (RedisGears' `v8-maxmemory`), the
 * guest runtime run before the library, and one entry point, the guest's dispatch function, called with the
 * lock timeout. Only primitives, ArrayBuffers and arrays of them cross: arguments and results are copied, and
 * the host's side of the channel is a handful of callbacks that take and return the same (guest/protocol.ts).
 *
 * Each isolate loads native/isolate-hooks before the guest: the guest runs the microtasks of library code at the
 * end of each dispatch and reports the promises left rejected without a handler through the channel, both inside
 * the timed call. isolated-vm would do both after the call, outside its timer, where a rejection reason's getter
 * that never returns wedged the runtime (isolate_hooks.cc).
 *
 * The lock timeout is wall-clock time, as in RedisGears (v8_backend.rs: a thread interrupts an isolate whose lock
 * has been held longer than `lock-redis-timeout`, time in Redis calls included). isolated-vm's timer pauses while
 * a host callback runs, so it bounds the guest's own time only; the host's calls that can take time (a Redis
 * call, callAsync's, a log line) read the clock before and after, and once the call's deadline has passed they
 * answer STOP, on which the guest terminates its own execution (isolate_hooks.cc `terminate`): the call in
 * progress runs to its end, and the termination lands as control returns to JavaScript, as in RedisGears.
 */
import ivm from 'isolated-vm';
import { GUEST_SOURCE } from '../../generated/guest-source.js';
import { GUEST_DISPATCH, GUEST_HOOKS, HOST_GLOBALS, Op, STOP, Status, type DispatchResult, type GuestOutcome, type HostChannel } from './guest/protocol.js';
import { isolateHooks } from './isolate-hooks.js';

export { ALLOWED_GLOBALS } from './guest/allowed-globals.js';

/** A failure of the engine rather than of library code: the reply is its message. */
export class EngineFailure extends Error {
  override readonly name: string = 'EngineFailure';
}

/** The lock timeout or the memory limit terminated library code. */
export class ExecutionTerminated extends EngineFailure {
  override readonly name = 'ExecutionTerminated';
  constructor() {
    super('Err Execution was terminated due to OOM or timeout');
  }
}

/** The isolate hit its memory limit before and is gone: every later call fails with RedisGears' text. */
export class OutOfMemory extends EngineFailure {
  override readonly name = 'OutOfMemory';
  constructor() {
    super('JS engine reached OOM state and can not run any more code');
  }
}

export interface SandboxOptions {
  /** lock-redis-timeout in ms. */
  readonly timeoutMs: number;
  /** v8-maxmemory of this library's isolate, in MB (isolated-vm's minimum is 8). */
  readonly memoryLimitMb: number;
  /** The host's side of the channel (called from inside the isolate, synchronously). */
  readonly channel: HostChannel;
  /** V8 lost control of the isolate (isolated-vm's onCatastrophicError): the process should be restarted. */
  readonly onCatastrophicError?: (message: string) => void;
}

const TIMED_OUT = 'Script execution timed out.';

/**
 * The lock timeout of a call ends on the first multiple of this many ms (of performance.now()) at or after the
 * configured timeout: 0–50 ms late, where RedisGears checks every 100 ms (v8_backend.rs: a thread that sleeps
 * 100 ms, then interrupts an isolate whose lock has been held longer than the timeout), so it terminates 0–100
 * ms late.
 *
 * Why: isolated-vm arms a timer per timed call on one timer thread, which keeps a call's timer in its queue
 * after the call returned and wakes at that timer's deadline to drop it. With a deadline per call, the thread
 * woke once per library entry (two per captured write, ~10% of the runtime's CPU and a context switch each on 2
 * cores); with the deadlines of a 50 ms span within the same millisecond, it wakes a few times per span.
 */
export const TIMEOUT_GRID_MS = 50;

/** The timeout to give a call starting at `now` (ms): at least `timeoutMs`, ending on the grid. */
export function gridTimeout(now: number, timeoutMs: number): number {
  return Math.ceil(Math.ceil((now + timeoutMs) / TIMEOUT_GRID_MS) * TIMEOUT_GRID_MS - now);
}

/** The outcome the guest returns as `null` (protocol.ts DispatchResult). */
const DONE: GuestOutcome = [Status.OK, null];

export class Sandbox {
  readonly #isolate: ivm.Isolate;
  readonly #context: ivm.Context;
  readonly #dispatch: ivm.Reference<(...args: unknown[]) => DispatchResult>;
  /** lock-redis-timeout of each call, in ms. */
  #timeoutMs = 0;
  /**
   * applySync options per timeout the grid gives (index: that timeout minus #timeoutMs), made once: isolated-vm
   * reads every field of them on each call. Arguments that are all primitives cross as themselves, without the
   * copy option and the fields it adds.
   */
  #applyPrimitives: { readonly timeout: number; readonly result: { readonly copy: true } }[] = [];
  #applyCopies: { readonly timeout: number; readonly arguments: { readonly copy: true }; readonly result: { readonly copy: true } }[] = [];
  /**
   * The isolate is gone. It only goes during a call of ours (the memory limit) or in dispose(), so this is kept
   * where those end, and each call reads it instead of isolated-vm's `isDisposed`, a native getter.
   */
  #gone = false;
  /** When the lock timeout of the call in progress ends (performance.now() ms); Infinity between calls. */
  #deadline = Infinity;
  /** A host callback answered STOP during the call in progress: the guest terminated itself. */
  #stopped = false;

  constructor(options: SandboxOptions) {
    const hooks = isolateHooks();
    this.timeoutMs = options.timeoutMs;
    this.#isolate = new ivm.Isolate({
      memoryLimit: options.memoryLimitMb,
      ...(options.onCatastrophicError ? { onCatastrophicError: options.onCatastrophicError } : {}),
    });
    try {
      this.#context = this.#isolate.createContextSync();
      const global = this.#context.global;
      const channel = options.channel;
      // Past the deadline before the call, the call is not made: RedisGears would have terminated the
      // JavaScript that makes it. Past it after the call, its result is dropped with the rest of the execution.
      const timed = (method: 'call' | 'callAsync' | 'log') => (...args: unknown[]) => {
        if (this.#overdue()) return STOP;
        const result = (channel[method] as (...args: unknown[]) => unknown).apply(channel, args);
        return this.#overdue() ? STOP : result;
      };
      const callbacks: Partial<Record<keyof HostChannel, (...args: unknown[]) => unknown>> = { call: timed('call'), callAsync: timed('callAsync'), log: timed('log') };
      for (const [method, name] of Object.entries(HOST_GLOBALS) as [keyof HostChannel, string][]) {
        global.setSync(name, new ivm.Callback((callbacks[method] ?? channel[method]) as (...args: unknown[]) => unknown));
      }
      global.setSync(GUEST_HOOKS, hooks.createSync(this.#context).derefInto());
      this.#isolate.compileScriptSync(GUEST_SOURCE, { filename: 'redisgears-runtime:guest' }).runSync(this.#context, { timeout: Math.max(options.timeoutMs, 1000) });
      this.#dispatch = global.getSync(GUEST_DISPATCH, { reference: true }) as ivm.Reference<(...args: unknown[]) => DispatchResult>;
      global.deleteSync(GUEST_DISPATCH);
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  /** lock-redis-timeout of each call, in ms. */
  set timeoutMs(value: number) {
    this.#timeoutMs = value;
    this.#applyPrimitives = [];
    this.#applyCopies = [];
  }

  /**
   * Compiles the library in its isolate (the guest's Op.COMPILE, which keeps it for Op.LOAD to run) without a
   * timeout: no library code runs in it, and RedisGears compiles before the lock clock starts. Throws the text of
   * the SyntaxError when `code` does not compile as a classic script.
   */
  compile(code: string, filename: string): void {
    this.#guard();
    let result: DispatchResult;
    try {
      result = this.#dispatch.applySync(undefined, [Op.COMPILE, code, filename], { result: { copy: true } });
    } catch (error) {
      if (this.#lost()) throw new OutOfMemory();
      throw error;
    }
    if (result !== null) throw String(result[1]);
  }

  /**
   * Calls the guest's dispatch with `argv`, the operation and its arguments, under the lock timeout. Throws an
   * EngineFailure when the timeout or the memory limit terminated it, or the isolate is gone.
   */
  invoke(argv: readonly unknown[]): GuestOutcome {
    this.#guard();
    return this.#apply(argv);
  }

  get disposed(): boolean {
    return this.#gone;
  }

  dispose(): void {
    this.#gone = true;
    if (!this.#isolate.isDisposed) this.#isolate.dispose();
  }

  /** Whether the lock timeout of the call in progress has passed; if so, the host callback answers STOP. */
  #overdue(): boolean {
    if (performance.now() < this.#deadline) return false;
    this.#stopped = true;
    return true;
  }

  #apply(args: readonly unknown[]): GuestOutcome {
    const now = performance.now();
    const outer = this.#deadline;
    if (outer === Infinity) this.#stopped = false;
    try {
      const timeout = gridTimeout(now, this.#timeoutMs);
      // A nested call keeps the deadline of the lock hold it is part of.
      this.#deadline = Math.min(outer, now + timeout);
      const slot = timeout - this.#timeoutMs;
      const result = args.every(isPrimitive)
        ? this.#dispatch.applySync(undefined, args as ivm.Transferable[], (this.#applyPrimitives[slot] ??= { timeout, result: { copy: true } }))
        : this.#dispatch.applySync(undefined, args.map(packed), (this.#applyCopies[slot] ??= { timeout, arguments: { copy: true }, result: { copy: true } }));
      return result ?? DONE;
    } catch (error) {
      if (this.#lost()) throw new ExecutionTerminated();
      if (error instanceof Error && error.message === TIMED_OUT) throw new ExecutionTerminated();
      // isolated-vm reports a termination it did not request as a thrown `null`.
      if (this.#stopped) throw new ExecutionTerminated();
      throw error;
    } finally {
      this.#deadline = outer;
    }
  }

  #guard(): void {
    if (this.#gone) throw new OutOfMemory();
  }

  /** After a failed call: whether it took the isolate with it. */
  #lost(): boolean {
    if (this.#isolate.isDisposed) this.#gone = true;
    return this.#gone;
  }
}

/** A value isolated-vm copies as it is; anything else (arrays, objects, functions) needs the copy option. */
function isPrimitive(value: unknown): boolean {
  return value === null || (typeof value !== 'object' && typeof value !== 'function');
}

/**
 * An array argument as a packed array. V8's serializer writes a holey one (what `new Array(n)`, `map` and
 * `flatMap` make, the stream trigger's fields among them) key by key, and the isolate rebuilds it property by
 * property; a packed one goes as a run of values. Spread and slice keep holey arrays holey: this copies by hand.
 */
function packed(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  const out: unknown[] = [];
  for (let i = 0; i < value.length; i++) out[out.length] = value[i];
  return out;
}
