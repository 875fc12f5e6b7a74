/**
 * Calling library code and reading its outcome: sync callbacks run with "the Redis lock" held (client.call
 * allowed) under the lock timeout; a returned promise is followed inside the sandbox so its continuations run
 * only under the runtime's lock.
 */
import { types } from 'node:util';
import { ExecutionTerminated } from './sandbox.js';
import { stringForm } from './js-values.js';
import type { Library } from './library.js';

export type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };

/** Runs `call` as a locked, synchronous entry into library code; exceptions become their string form. */
export function invokeLocked(library: Library, call: () => unknown): Outcome {
  try {
    const value = library.sandbox.invoke(() => {
      library.locked = true;
      try {
        return call();
      } finally {
        library.locked = false;
      }
    });
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error: errorText(error) };
  }
}

export function errorText(error: unknown): string {
  return error instanceof ExecutionTerminated ? error.message : stringForm(error);
}

export function isPromise(value: unknown): value is Promise<unknown> {
  return types.isPromise(value);
}

/**
 * Follows a promise returned by library code: `onSettled` runs (inside the sandbox) when it settles. Returns the
 * outcome if it had already settled by the end of this invocation, else null.
 */
export function followPromise(library: Library, promise: Promise<unknown>, onSettled: (outcome: Outcome) => void): Outcome | null {
  let early: Outcome | null = null;
  let returned = false;
  const settle = (outcome: Outcome) => {
    if (returned) onSettled(outcome);
    else early = outcome;
  };
  // The reactions of an already settled promise run in the microtask drain at the end of this invoke.
  library.sandbox.observe(
    promise,
    (value) => settle({ ok: true, value }),
    (error: unknown) => settle({ ok: false, error: errorText(error) }),
  );
  returned = true;
  return early;
}
