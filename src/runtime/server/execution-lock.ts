/**
 * The runtime's global execution lock. Everything that must look atomic to the clients of the runtime — a
 * command whose keyspace events can fire a trigger, together with those triggers; a TFCALL with every call its
 * function makes; library work started in the background — holds it *exclusively*. Commands that provably
 * cannot fire a trigger (their keys match no prefix) hold it *shared*: redis-server already runs each of them
 * atomically, so they may overlap one another, but never an exclusive section. Waiters are served in arrival
 * order, so a stream of shared commands cannot starve an exclusive one.
 */
export type ReleaseLock = () => void;

type LockMode = 'shared' | 'exclusive';

interface Waiter {
  readonly mode: LockMode;
  readonly grant: () => void;
}

export class ExecutionLock {
  #sharedHolders = 0;
  #exclusiveHeld = false;
  readonly #waiters: Waiter[] = [];

  /** Acquires the lock alone: resolves once every earlier holder has released it. */
  exclusive(): Promise<ReleaseLock> {
    return this.#acquire('exclusive');
  }

  /** Acquires the lock alongside other shared holders, behind any exclusive holder or earlier waiter. */
  shared(): Promise<ReleaseLock> {
    return this.#acquire('shared');
  }

  /** True while anyone holds the lock or waits for it (tests and diagnostics). */
  get busy(): boolean {
    return this.#exclusiveHeld || this.#sharedHolders > 0 || this.#waiters.length > 0;
  }

  #acquire(mode: LockMode): Promise<ReleaseLock> {
    if (this.#waiters.length === 0 && this.#canGrant(mode)) return Promise.resolve(this.#take(mode));
    return new Promise((resolve) => this.#waiters.push({ mode, grant: () => resolve(this.#take(mode)) }));
  }

  #canGrant(mode: LockMode): boolean {
    if (this.#exclusiveHeld) return false;
    return mode === 'shared' || this.#sharedHolders === 0;
  }

  #take(mode: LockMode): ReleaseLock {
    if (mode === 'exclusive') this.#exclusiveHeld = true;
    else this.#sharedHolders++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (mode === 'exclusive') this.#exclusiveHeld = false;
      else this.#sharedHolders--;
      this.#grantWaiters();
    };
  }

  #grantWaiters(): void {
    while (this.#waiters.length > 0 && this.#canGrant(this.#waiters[0]!.mode)) {
      this.#waiters.shift()!.grant();
    }
  }
}
