/**
 * Calling library code and reading its outcome: sync callbacks run with "the Redis lock" held (client.call
 * allowed) under the lock timeout; a returned promise is followed inside the sandbox so its continuations run
 * only under the runtime's lock.
 */
import { types } from 'node:util';
import { ExecutionTerminated } from './sandbox.js';
import { stringForm } from './js-values.js';
import type { Library } from './library.js';
import type { LoadedLibraryEntry } from './loaded-library.js';

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

/**
 * Runs a sync trigger callback (keyspace or stream) now, locked, with a client of database `db`; `done` gets its
 * outcome at once, or, when it returned a promise (e.g. executeAsync), once that settles.
 */
export function runSyncCallback(entry: LoadedLibraryEntry, db: number, callback: (client: object) => unknown, done: (outcome: Outcome) => void): void {
  const handle = entry.clients.syncClient({ db, noWrites: false, allowBlock: true });
  const outcome = invokeLocked(entry.library, () => callback(handle.client));
  handle.invalidate();
  if (outcome.ok && isPromise(outcome.value)) {
    const early = followPromise(entry.library, outcome.value, done);
    if (early) done(early);
    return;
  }
  done(outcome);
}

/**
 * Runs an async trigger callback (keyspace or stream) on the background queue, with an async client of database
 * `db`; `done` gets its outcome once it returned, threw, or its promise settled.
 */
export function runAsyncCallback(entry: LoadedLibraryEntry, db: number, callback: (client: object) => unknown, done: (outcome: Outcome) => void): void {
  entry.clients.background(
    () => {
      const client = entry.clients.asyncClient({ db, noWrites: false }).client;
      let result: unknown;
      try {
        result = callback(client);
      } catch (error) {
        return done({ ok: false, error: errorText(error) });
      }
      if (isPromise(result)) {
        entry.library.sandbox.observe(
          result,
          () => done({ ok: true, value: undefined }),
          (error: unknown) => done({ ok: false, error: errorText(error) }),
        );
      } else done({ ok: true, value: result });
    },
    (error) => done({ ok: false, error }),
  );
}
