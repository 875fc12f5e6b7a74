/**
 * One library's V8 isolate (isolated-vm): its own heap with a memory limit (RedisGears' `v8-maxmemory`), the
 * guest runtime run before the library, and one entry point, the guest's dispatch function, called with the
 * lock timeout. Only primitives, ArrayBuffers and arrays of them cross: arguments and results are copied, and
 * the host's side of the channel is a handful of callbacks that take and return the same (guest/protocol.ts).
 *
 * Microtasks of library code run at the end of each dispatch, inside the timed call, so promise continuations
 * run only while the caller holds the runtime's lock, as they did with node:vm's `afterEvaluate`.
 *
 * isolated-vm turns a promise of the isolate that was rejected with no handler by the end of a call into an
 * exception of that call, in place of its result. The guest's dispatch never throws, so such an exception is an
 * unhandled rejection of library code: it is reported, and the dispatch's own outcome fetched with Op.TAKE.
 */
import ivm from 'isolated-vm';
import { GUEST_SOURCE } from '../../generated/guest-source.js';
import { GUEST_DISPATCH, HOST_GLOBALS, Op, Status, type GuestOutcome, type HostChannel } from './guest/protocol.js';

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
  /** A promise of library code was rejected and nobody handled it by the end of a call. */
  readonly onUnhandledRejection: (reason: string) => void;
  /** V8 lost control of the isolate (isolated-vm's onCatastrophicError): the process should be restarted. */
  readonly onCatastrophicError?: (message: string) => void;
}

const TIMED_OUT = 'Script execution timed out.';
/** V8 reports a compile error's location after the message; RedisGears shows the message only. */
const LOCATION_SUFFIX = / \[[^\]]*:\d+:\d+\]$/;

export class Sandbox {
  readonly #isolate: ivm.Isolate;
  readonly #context: ivm.Context;
  readonly #dispatch: ivm.Reference<(...args: unknown[]) => GuestOutcome>;
  readonly #options: SandboxOptions;
  /** lock-redis-timeout of each call, in ms. */
  timeoutMs: number;
  /** Dispatches made so far; the guest counts the same, so Op.TAKE can ask for a given one. */
  #sequence = 0;

  constructor(options: SandboxOptions) {
    this.#options = options;
    this.timeoutMs = options.timeoutMs;
    this.#isolate = new ivm.Isolate({
      memoryLimit: options.memoryLimitMb,
      ...(options.onCatastrophicError ? { onCatastrophicError: options.onCatastrophicError } : {}),
    });
    try {
      this.#context = this.#isolate.createContextSync();
      const global = this.#context.global;
      const channel = options.channel;
      for (const [method, name] of Object.entries(HOST_GLOBALS) as [keyof HostChannel, string][]) {
        global.setSync(name, new ivm.Callback(channel[method] as (...args: unknown[]) => unknown));
      }
      this.#isolate.compileScriptSync(GUEST_SOURCE, { filename: 'redisgears-runtime:guest' }).runSync(this.#context, { timeout: Math.max(options.timeoutMs, 1000) });
      this.#dispatch = global.getSync(GUEST_DISPATCH, { reference: true }) as ivm.Reference<(...args: unknown[]) => GuestOutcome>;
      global.deleteSync(GUEST_DISPATCH);
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  /** Throws the text of the SyntaxError when `code` does not compile as a classic script. */
  checkSyntax(code: string, filename: string): void {
    this.#guard();
    try {
      this.#isolate.compileScriptSync(code, { filename }).release();
    } catch (error) {
      if (this.#isolate.isDisposed) throw new OutOfMemory();
      throw String(error).replace(LOCATION_SUFFIX, '');
    }
  }

  /**
   * Calls the guest's dispatch under the lock timeout. Throws an EngineFailure when the timeout or the memory
   * limit terminated it, or the isolate is gone.
   */
  invoke(op: number, ...args: unknown[]): GuestOutcome {
    this.#guard();
    this.#sequence += 1;
    const sequence = this.#sequence;
    try {
      return this.#apply([op, ...args]);
    } catch (error) {
      if (error instanceof EngineFailure) throw error;
      this.#options.onUnhandledRejection(String(error));
      try {
        return this.#apply([Op.TAKE, sequence]);
      } catch (again) {
        if (again instanceof EngineFailure) throw again;
        return [Status.ERROR, String(again)];
      }
    }
  }

  get disposed(): boolean {
    return this.#isolate.isDisposed;
  }

  dispose(): void {
    if (!this.#isolate.isDisposed) this.#isolate.dispose();
  }

  #apply(args: unknown[]): GuestOutcome {
    try {
      return this.#dispatch.applySync(undefined, args, { timeout: this.timeoutMs, arguments: { copy: true }, result: { copy: true } });
    } catch (error) {
      if (this.#isolate.isDisposed) throw new ExecutionTerminated();
      if (error instanceof Error && error.message === TIMED_OUT) throw new ExecutionTerminated();
      throw error;
    }
  }

  #guard(): void {
    if (this.#isolate.isDisposed) throw new OutOfMemory();
  }
}
