/**
 * The guest's own state inside one isolate: the host channel, "the Redis lock" as library code sees it, the
 * background jobs it scheduled, the callAsync calls it waits for, and the promises the host follows.
 */
import { convertError } from './native-arguments.js';
import { Status, type HostChannel } from './protocol.js';
import { ConversionError, toReply } from './reply-writer.js';
import { isAsyncFunction, stringForm, whenSettled } from './types.js';

const IntrinsicPromise = Promise;
const create = Object.create;

interface Resolvers {
  readonly promise: Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

export class GuestState {
  /** True while library code holds "the Redis lock" (sync invocations and block()): `client.call` needs it. */
  locked = false;
  /** True while the top-level code runs: registrations are accepted only then. */
  loading = false;
  readonly #jobs: Record<number, () => void> = create(null);
  readonly #calls: Record<number, { readonly settle: Resolvers; readonly raw: boolean }> = create(null);
  #nextJob = 1;

  constructor(readonly host: HostChannel) {}

  /** Runs `job` later, on the library's background thread (the host runs it under the runtime's lock). */
  defer(job: () => void): void {
    const id = this.#nextJob++;
    this.#jobs[id] = job;
    this.host.schedule(id);
  }

  runJob(id: number): void {
    const job = this.#jobs[id];
    delete this.#jobs[id];
    job?.();
  }

  resolvers(): Resolvers {
    let resolve!: (value: unknown) => void;
    let reject!: (error: unknown) => void;
    const promise = new IntrinsicPromise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  }

  /** A callAsync call the host answers later with Op.CALL_REPLY. */
  awaitCall(callId: number, raw: boolean): Promise<unknown> {
    const settle = this.resolvers();
    this.#calls[callId] = { settle, raw };
    return settle.promise;
  }

  takeCall(callId: number): { readonly settle: Resolvers; readonly raw: boolean } | undefined {
    const call = this.#calls[callId];
    delete this.#calls[callId];
    return call;
  }

  /** Tells the host under `token` how `promise` settled, its value converted into a reply when `convert`. */
  follow(promise: Promise<unknown>, token: number, convert: boolean): void {
    const host = this.host;
    whenSettled(
      promise,
      (value) => {
        if (!convert) return host.settled(token, Status.OK, null);
        try {
          host.settled(token, Status.OK, toReply(value));
        } catch (failure) {
          host.settled(token, Status.ERROR, failure instanceof ConversionError ? failure.message : stringForm(failure));
        }
      },
      (error) => host.settled(token, Status.ERROR, stringForm(error)),
    );
  }

  /**
   * RedisGears replaces the global Promise with a plain native function: `new Promise(fn)` works (fn must be a
   * non-async function, else "Bad argument to 'Promise' function"), resolve/reject settle later on the background
   * thread, and there are no statics (Promise.all, Promise.resolve…).
   */
  nativePromise(): (executor: unknown) => Promise<unknown> {
    const state = this;
    // Every native function of RedisGears takes its declared arguments: Promise(fn), resolve(v) and reject(e) each need one.
    const required = (args: readonly unknown[]) => {
      if (args.length < 1) throw convertError(0, 'V8LocalValue', 'Wrong number of arguments given');
    };
    return function Promise(...args: unknown[]): Promise<unknown> {
      required(args);
      const executor = args[0];
      if (typeof executor !== 'function' || isAsyncFunction(executor)) throw "Bad argument to 'Promise' function";
      const settle = state.resolvers();
      let done = false;
      const once = (action: (v: unknown) => void) => (...values: unknown[]) => {
        required(values);
        if (done) return;
        done = true;
        state.defer(() => action(values[0]));
      };
      (executor as (resolve: (v: unknown) => void, reject: (e: unknown) => void) => void)(once(settle.resolve), once(settle.reject));
      return settle.promise;
    } as (executor: unknown) => Promise<unknown>;
  }
}
