/**
 * Runs keyspace triggers for the events of one command (keys_notifications.rs, v8_notifications_ctx.rs): for
 * every event, every matching trigger of every library in registration order counts the event and runs its
 * onTriggerFired (read-only client; a failure skips the main callback); then, as post-notification jobs, the
 * main callbacks run: sync ones now (writes allowed), async ones on the background thread. Failures are only
 * recorded in the trigger's stats, never shown to the writer.
 */
import type { KeyspaceEvent } from '../gears-host.js';
import type { Logger } from '../../shared/log.js';
import type { AccessControl } from '../access/access-control.js';
import { Op, Phase } from './guest/protocol.js';
import { runTrigger, type Outcome } from './invocation.js';
import type { KeyspaceTrigger } from './keyspace-trigger.js';
import type { LoadedLibraryEntry } from './loaded-library.js';

interface PendingCallback {
  readonly entry: LoadedLibraryEntry;
  readonly trigger: KeyspaceTrigger;
  readonly event: KeyspaceEvent;
  /** The event data object onTriggerFired got, kept in the isolate for the callback under this id. */
  readonly dataId: number;
}

export class KeyspaceDispatcher {
  readonly #libraries: () => Iterable<LoadedLibraryEntry>;
  readonly #log: Logger;
  readonly #access: AccessControl;
  #nextDataId = 1;

  constructor(libraries: () => Iterable<LoadedLibraryEntry>, log: Logger, access: AccessControl) {
    this.#libraries = libraries;
    this.#log = log;
    this.#access = access;
  }

  matches(key: Buffer): boolean {
    return this.firstMatch(key) !== null;
  }

  /** The first trigger, in firing order, whose prefix matches `key`. */
  firstMatch(key: Buffer): KeyspaceTrigger | null {
    for (const { library } of this.#libraries()) {
      for (const trigger of library.keyspaceTriggers.values()) if (trigger.matches(key)) return trigger;
    }
    return null;
  }

  fire(events: readonly KeyspaceEvent[]): void {
    const callbacks: PendingCallback[] = [];
    for (const event of events) {
      for (const entry of [...this.#libraries()]) {
        for (const trigger of [...entry.library.keyspaceTriggers.values()]) {
          if (!trigger.matches(event.key)) continue;
          trigger.stats.numTrigger += 1;
          // The owner must have every permission on the key, or the trigger fails before any of its code runs.
          const denial = this.#access.triggerKeyDenial(entry.library.metadata.user, event.key);
          if (denial !== null) {
            trigger.recordFinished(performance.now(), denial);
            continue;
          }
          const callback = { entry, trigger, event, dataId: this.#nextDataId++ };
          if (trigger.hasOnTriggerFired && !this.#onTriggerFired(callback)) continue;
          callbacks.push(callback);
        }
      }
    }
    for (const callback of callbacks) {
      if (callback.entry.library.active) this.#run(callback);
    }
  }

  /** Runs onTriggerFired with a read-only client; false (and a recorded failure) when it threw or timed out. */
  #onTriggerFired({ entry, trigger, event, dataId }: PendingCallback): boolean {
    const started = performance.now();
    const clientId = entry.clients.openSync({ db: event.db, noWrites: true, user: entry.library.metadata.user });
    const key = event.key.toString('latin1');
    let outcome: Outcome = { ok: true, value: null };
    entry.library.link.run(Op.KEYSPACE, [trigger.index, Phase.ON_TRIGGER_FIRED, clientId, dataId, event.event, key], (o) => {
      outcome = o;
    }, (reason) => recordUnhandled(trigger, reason));
    entry.clients.close(clientId);
    const result = outcome as Outcome;
    if (result.ok) return true;
    trigger.recordFinished(started, result.error);
    return false;
  }

  #run({ entry, trigger, event, dataId }: PendingCallback): void {
    const started = performance.now();
    const key = event.key.toString('latin1');
    runTrigger(
      entry,
      event.db,
      {
        op: Op.KEYSPACE,
        args: (clientId) => [trigger.index, Phase.CALLBACK, clientId, dataId, event.event, key],
        isAsync: trigger.isAsync,
        onUnhandled: (reason) => recordUnhandled(trigger, reason),
      },
      (outcome) => this.#finish(entry, trigger, started, outcome),
    );
  }

  #finish(entry: LoadedLibraryEntry, trigger: KeyspaceTrigger, started: number, outcome: Outcome): void {
    trigger.recordFinished(started, outcome.ok ? null : outcome.error);
    if (!outcome.ok) this.#log.debug({ library: entry.library.name, trigger: trigger.name, error: outcome.error }, 'keyspace trigger failed');
  }
}

/** An unhandled rejection shows as the trigger's last error (it does not count as a failed run). */
function recordUnhandled(trigger: KeyspaceTrigger, reason: string): void {
  trigger.stats.lastError = `Unhandled promise rejection: ${reason}`;
}
