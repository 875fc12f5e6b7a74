/**
 * The runtime's global execution lock. Everything that must look atomic to the clients of the runtime — a
 * command whose keyspace events can fire a trigger, together with those triggers; a TFCALL with every call its
 * function makes; library work started in the background — holds it *exclusively*. Commands that provably
 * cannot fire a trigger (their keys match no prefix) hold it *shared*: redis-server already runs each of them
 * atomically, so they may overlap one another, but never an exclusive section. Waiters are served in arrival
 * order, so a stream of shared commands cannot starve an exclusive one.
 *
 * An exclusive holder that waits long on the server (a script past busy-reply-threshold, a command held by
 * CLIENT PAUSE) may step aside for shared holders: redis-server itself keeps serving other clients then (BUSY
 * replies, reads during a write pause), and a proxy that kept them waiting behind the lock would freeze every
 * client until the script ends — which SCRIPT KILL, stuck behind the lock too, could then never cause.
 */
export type ReleaseLock = () => void;

/** A trigger window (replication/trigger-windows.ts): `ready` must settle before the holder sends anything. */
export interface TriggerWindow {
  readonly ready: Promise<void> | null;
  close(): void;
}

/** Told of every exclusive hold: each is a trigger window for the replicas (null: nothing to track). */
export interface WindowGate {
  open(): TriggerWindow | null;
}

/** Told of every exclusive hold at its release: how long it was waited for and held (runtime-metrics.ts). */
export interface HoldMeter {
  exclusive(waitedMs: number, heldMs: number): void;
}

type LockMode = 'shared' | 'exclusive';

interface Waiter {
  readonly mode: LockMode;
  readonly grant: () => void;
  /** Set for exclusiveOrAside(): grants a shared hold beside an exclusive holder that stepped aside. */
  readonly grantAside?: () => void;
}

/** A hold from exclusiveOrAside(): exclusive, or shared beside a holder that stepped aside (`aside`). */
export interface Hold {
  readonly release: ReleaseLock;
  readonly aside: boolean;
}

export class ExecutionLock {
  #sharedHolders = 0;
  #exclusiveHeld = false;
  /** The exclusive holder stepped aside: shared holders run beside it. */
  #sharedAdmitted = false;
  readonly #waiters: Waiter[] = [];
  #sharedDrained: (() => void)[] = [];
  #windows: WindowGate | undefined;
  #meter: HoldMeter | undefined;

  /** Each exclusive hold from now on is told to `meter` at its release. */
  meterHolds(meter: HoldMeter): void {
    this.#meter = meter;
  }

  /** Each exclusive hold from now on opens a trigger window on `windows`, closed at its release. */
  useWindows(windows: WindowGate): void {
    this.#windows = windows;
  }

  /** Acquires the lock alone: resolves once every earlier holder has released it. */
  async exclusive(): Promise<ReleaseLock> {
    return this.#windowed(await this.#acquire('exclusive'));
  }

  /** Acquires the lock alongside other shared holders, behind any exclusive holder or earlier waiter. */
  shared(): Promise<ReleaseLock> {
    return this.#acquire('shared');
  }

  /**
   * The exclusive lock — or, while the exclusive holder has stepped aside (the server is busy or paused), a shared
   * hold beside it, marked `aside`: a command that could fire a trigger may then be sent as other clients' are
   * sent to a busy redis-server (it is refused with BUSY, or waits on the server), instead of waiting for a lock
   * that the busy script holds.
   */
  async exclusiveOrAside(): Promise<Hold> {
    const hold = await this.#exclusiveOrAside();
    return hold.aside ? hold : { release: await this.#windowed(hold.release), aside: false };
  }

  #exclusiveOrAside(): Promise<Hold> {
    const requestedAt = this.#meter === undefined ? 0 : performance.now();
    if (this.#exclusiveHeld && this.#sharedAdmitted) return Promise.resolve({ release: this.#take('shared'), aside: true });
    if (this.#waiters.length === 0 && this.#canGrant('exclusive')) return Promise.resolve({ release: this.#take('exclusive', requestedAt), aside: false });
    return new Promise((resolve) =>
      this.#waiters.push({
        mode: 'exclusive',
        grant: () => resolve({ release: this.#take('exclusive', requestedAt), aside: false }),
        grantAside: () => resolve({ release: this.#take('shared'), aside: true }),
      }),
    );
  }

  /** An exclusive hold as a trigger window: it starts once the window may, and closes the window before the release. */
  async #windowed(release: ReleaseLock): Promise<ReleaseLock> {
    const window = this.#windows?.open() ?? null;
    if (window === null) return release;
    if (window.ready !== null) await window.ready;
    return () => {
      window.close();
      release();
    };
  }

  /**
   * Lets shared holders (waiting or new) run beside the exclusive holder, which must be the caller. The returned
   * function takes the lock back: it admits no more shared holders and resolves once those admitted are done.
   */
  stepAside(): () => Promise<void> {
    if (!this.#exclusiveHeld) throw new Error('stepAside() without the exclusive lock');
    this.#sharedAdmitted = true;
    this.#grantWaiters();
    return () => {
      this.#sharedAdmitted = false;
      if (this.#sharedHolders === 0) return Promise.resolve();
      return new Promise((resolve) => this.#sharedDrained.push(resolve));
    };
  }

  /** True while anyone holds the lock or waits for it (tests and diagnostics). */
  get busy(): boolean {
    return this.#exclusiveHeld || this.#sharedHolders > 0 || this.#waiters.length > 0;
  }

  #acquire(mode: LockMode): Promise<ReleaseLock> {
    const requestedAt = mode === 'exclusive' && this.#meter !== undefined ? performance.now() : 0;
    const queueFree = this.#waiters.length === 0 || (mode === 'shared' && this.#sharedAdmitted);
    if (queueFree && this.#canGrant(mode)) return Promise.resolve(this.#take(mode, requestedAt));
    return new Promise((resolve) => this.#waiters.push({ mode, grant: () => resolve(this.#take(mode, requestedAt)) }));
  }

  #canGrant(mode: LockMode): boolean {
    if (this.#exclusiveHeld) return mode === 'shared' && this.#sharedAdmitted;
    return mode === 'shared' || this.#sharedHolders === 0;
  }

  /** `requestedAt`: when the holder asked (performance.now()), for the meter. */
  #take(mode: LockMode, requestedAt = 0): ReleaseLock {
    if (mode === 'exclusive') this.#exclusiveHeld = true;
    else this.#sharedHolders++;
    const meter = mode === 'exclusive' ? this.#meter : undefined;
    const grantedAt = meter === undefined ? 0 : performance.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (mode === 'exclusive') {
        meter?.exclusive(grantedAt - requestedAt, performance.now() - grantedAt);
        this.#exclusiveHeld = false;
        this.#sharedAdmitted = false;
      } else if (--this.#sharedHolders === 0) {
        for (const resolve of this.#sharedDrained.splice(0)) resolve();
      }
      this.#grantWaiters();
    };
  }

  #grantWaiters(): void {
    while (this.#waiters.length > 0 && this.#canGrant(this.#waiters[0]!.mode)) {
      this.#waiters.shift()!.grant();
    }
    if (!this.#sharedAdmitted) return;
    // Stepped aside: shared waiters queued behind an exclusive waiter may go too, and those content to go aside.
    for (let i = 0; i < this.#waiters.length; ) {
      const waiter = this.#waiters[i]!;
      if (waiter.mode === 'shared') this.#waiters.splice(i, 1)[0]!.grant();
      else if (waiter.grantAside) this.#waiters.splice(i, 1)[0]!.grantAside!();
      else i++;
    }
  }
}
