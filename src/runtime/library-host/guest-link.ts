/**
 * The host's handle on one library's isolate: invokes the guest, maps its outcomes, and delivers the outcomes
 * of promises the guest follows to whoever waits for them. A promise that settles during a call is reported by
 * the guest from inside that call; its waiter runs once the call has returned, so host code never re-enters the
 * isolate from one of its own callbacks.
 */
import { Status, type GuestOutcome, type GuestReply, type HostChannel } from './guest/protocol.js';
import { EngineFailure, Sandbox, type SandboxOptions } from './sandbox.js';

export type Outcome = { readonly ok: true; readonly value: GuestReply } | { readonly ok: false; readonly error: string };

/** The outcome of an invocation whose promise the guest follows: it comes to the waiter later. */
export const PENDING = Symbol('pending');

export interface GuestLinkOptions extends Omit<SandboxOptions, 'channel'> {
  readonly channel: Omit<HostChannel, 'settled' | 'rejected'>;
  /** Logs an unhandled rejection (the invocation it happened in may record it too). */
  readonly onUnhandledRejection: (reason: string) => void;
}

export class GuestLink {
  readonly #sandbox: Sandbox;
  readonly #waiters = new Map<number, (outcome: Outcome) => void>();
  readonly #settled: [number, Outcome][] = [];
  #nextToken = 1;
  #depth = 0;
  /**
   * An invocation was terminated (lock timeout, OOM): V8 dropped the rest of that microtask checkpoint, so the
   * promise continuations that would have settled waiting invocations may be gone with it.
   */
  #cut = false;
  /** The token of the invocation run() is making now: its outcome goes to its caller, not through #deliver. */
  #running = 0;
  /** Who records an unhandled rejection of the running invocation, besides the log. */
  #attribute: ((reason: string) => void) | null = null;

  constructor(options: GuestLinkOptions) {
    const channel = options.channel;
    this.#sandbox = new Sandbox({
      ...options,
      channel: {
        call: (clientId, argv) => channel.call(clientId, argv),
        callAsync: (clientId, argv) => channel.callAsync(clientId, argv),
        schedule: (jobId) => channel.schedule(jobId),
        openClient: (kind, fromId) => channel.openClient(kind, fromId),
        closeClient: (clientId) => channel.closeClient(clientId),
        log: (message) => channel.log(message),
        settled: (token, status, payload) => {
          this.#settled.push([token, toOutcome([status, payload] as GuestOutcome)]);
        },
        rejected: (reason) => {
          options.onUnhandledRejection(reason);
          this.#attribute?.(reason);
        },
      },
    });
  }

  /** The lock timeout of the next calls, in ms. */
  set timeoutMs(value: number) {
    this.#sandbox.timeoutMs = value;
  }

  /** Compiles the library for Op.LOAD to run, untimed; throws the SyntaxError's text (Sandbox.compile). */
  compile(code: string, filename: string): void {
    this.#sandbox.compile(code, filename);
  }

  /**
   * Runs `op` with `args` and a token; `done` gets the outcome now, or later when the guest follows a promise.
   * `onUnhandled` records an unhandled rejection that happens during this call.
   */
  run(op: number, args: readonly unknown[], done: (outcome: Outcome) => void, onUnhandled?: (reason: string) => void): void {
    const token = this.#nextToken++;
    this.#waiters.set(token, done);
    this.#attribute = onUnhandled ?? null;
    this.#running = token;
    const outcome = this.#invoke([op, ...args, token]);
    this.#running = 0;
    this.#attribute = null;
    if (outcome === PENDING) return;
    this.#waiters.delete(token);
    done(outcome);
  }

  /** Calls the guest; engine failures (timeout, OOM) come back as error outcomes with RedisGears' texts. */
  invoke(op: number, ...args: unknown[]): Outcome | typeof PENDING {
    return this.#invoke([op, ...args]);
  }

  dispose(): void {
    this.#sandbox.dispose();
  }

  /** `argv`: the operation and its arguments. */
  #invoke(argv: readonly unknown[]): Outcome | typeof PENDING {
    let outcome: Outcome | typeof PENDING;
    this.#depth += 1;
    try {
      const result = this.#sandbox.invoke(argv);
      outcome = result[0] === Status.PENDING ? PENDING : toOutcome(result);
    } catch (error) {
      if (!(error instanceof EngineFailure)) throw error;
      outcome = { ok: false, error: error.message };
      this.#cut = true;
    } finally {
      this.#depth -= 1;
    }
    if (this.#depth === 0) this.#deliver();
    return outcome;
  }

  #deliver(): void {
    while (this.#settled.length > 0) {
      const [token, outcome] = this.#settled.shift()!;
      const waiter = this.#waiters.get(token);
      this.#waiters.delete(token);
      waiter?.(outcome);
    }
    // A dead isolate settles nothing any more, and a cut checkpoint may never settle what waits: whoever still
    // waits gets RedisGears' failure (a hostile rejection reason converted in a continuation must not leave its
    // client waiting for good).
    const cut = this.#cut;
    this.#cut = false;
    if ((this.#sandbox.disposed || cut) && this.#waiters.size > 0) {
      for (const [token, waiter] of [...this.#waiters]) {
        if (token === this.#running) continue;
        this.#waiters.delete(token);
        waiter({ ok: false, error: 'Err Execution was terminated due to OOM or timeout' });
      }
    }
  }
}

function toOutcome(result: GuestOutcome): Outcome {
  if (result[0] === Status.OK) return { ok: true, value: result[1] };
  return { ok: false, error: String(result[1]) };
}
