/**
 * Running trigger callbacks (keyspace and stream): a sync one now, with a sync client of the event's database
 * under "the Redis lock"; an async one on the library's background thread with an async client. `done` gets the
 * outcome once the callback returned, threw, or the promise it returned settled.
 */
import type { Outcome } from './guest-link.js';
import type { LoadedLibraryEntry } from './loaded-library.js';

export type { Outcome } from './guest-link.js';

/** What a trigger invocation needs: the operation and its arguments around the client id. */
export interface TriggerCall {
  readonly op: number;
  readonly args: (clientId: number) => readonly unknown[];
  readonly isAsync: boolean;
  /** Records an unhandled rejection of this callback where the trigger shows errors. */
  readonly onUnhandled?: (reason: string) => void;
}

export function runTrigger(entry: LoadedLibraryEntry, db: number, call: TriggerCall, done: (outcome: Outcome) => void): void {
  const { clients, library } = entry;
  // A trigger's calls run as the library owner (§3.6).
  const principal = { db, noWrites: false, user: library.metadata.user };
  if (!call.isAsync) {
    const clientId = clients.openSync(principal);
    library.link.run(call.op, call.args(clientId), done, call.onUnhandled);
    clients.close(clientId);
    return;
  }
  clients.background(
    () => library.link.run(call.op, call.args(clients.principal(principal)), done, call.onUnhandled),
    (error) => done({ ok: false, error }),
  );
}
