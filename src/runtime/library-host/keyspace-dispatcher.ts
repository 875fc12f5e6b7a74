/**
 * Runs keyspace triggers for the events of one command (keys_notifications.rs, v8_notifications_ctx.rs): for
 * every event, every matching trigger of every library in registration order counts the event and runs its
 * onTriggerFired (read-only client; a failure skips the main callback); then, as post-notification jobs, the
 * main callbacks run: sync ones now (writes allowed), async ones on the background thread. Failures are only
 * recorded in the trigger's stats, never shown to the writer.
 */
import type { KeyspaceEvent } from '../gears-host.js';
import type { Logger } from '../../shared/log.js';
import { decodeUtf8, realmArrayBuffer } from './js-values.js';
import { invokeLocked, runAsyncCallback, runSyncCallback, type Outcome } from './invocation.js';
import type { KeyspaceTrigger } from './keyspace-trigger.js';
import type { LoadedLibraryEntry } from './loaded-library.js';

interface PendingCallback {
  readonly entry: LoadedLibraryEntry;
  readonly trigger: KeyspaceTrigger;
  readonly event: KeyspaceEvent;
  readonly data: object;
}

export class KeyspaceDispatcher {
  readonly #libraries: () => Iterable<LoadedLibraryEntry>;
  readonly #log: Logger;

  constructor(libraries: () => Iterable<LoadedLibraryEntry>, log: Logger) {
    this.#libraries = libraries;
    this.#log = log;
  }

  matches(key: Buffer): boolean {
    for (const { library } of this.#libraries()) {
      for (const trigger of library.keyspaceTriggers.values()) if (trigger.matches(key)) return true;
    }
    return false;
  }

  fire(events: readonly KeyspaceEvent[]): void {
    const callbacks: PendingCallback[] = [];
    for (const event of events) {
      for (const entry of [...this.#libraries()]) {
        for (const trigger of [...entry.library.keyspaceTriggers.values()]) {
          if (!trigger.matches(event.key)) continue;
          trigger.stats.numTrigger += 1;
          const data = this.#data(entry, event);
          if (trigger.onTriggerFired && !this.#onTriggerFired(entry, trigger, event, data)) continue;
          callbacks.push({ entry, trigger, event, data });
        }
      }
    }
    for (const callback of callbacks) {
      if (!callback.entry.library.active) continue;
      if (callback.trigger.isAsync) this.#runAsync(callback);
      else this.#runSync(callback);
    }
  }

  /** Runs onTriggerFired with a read-only client; false (and a recorded failure) when it threw or timed out. */
  #onTriggerFired(entry: LoadedLibraryEntry, trigger: KeyspaceTrigger, event: KeyspaceEvent, data: object): boolean {
    const started = performance.now();
    const handle = entry.clients.syncClient({ db: event.db, noWrites: true, allowBlock: true });
    const outcome = invokeLocked(entry.library, () => trigger.onTriggerFired!(handle.client, data));
    handle.invalidate();
    if (outcome.ok) return true;
    trigger.recordFinished(started, outcome.error);
    return false;
  }

  #runSync({ entry, trigger, event, data }: PendingCallback): void {
    const started = performance.now();
    runSyncCallback(entry, event.db, (client) => trigger.callback(client, data), (outcome) => this.#finish(entry, trigger, started, outcome));
  }

  #runAsync({ entry, trigger, event, data }: PendingCallback): void {
    const started = performance.now();
    runAsyncCallback(entry, event.db, (client) => trigger.callback(client, data), (outcome) => this.#finish(entry, trigger, started, outcome));
  }

  #finish(entry: LoadedLibraryEntry, trigger: KeyspaceTrigger, started: number, outcome: Outcome): void {
    trigger.recordFinished(started, outcome.ok ? null : outcome.error);
    if (!outcome.ok) this.#log.debug({ library: entry.library.name, trigger: trigger.name, error: outcome.error }, 'keyspace trigger failed');
  }

  #data(entry: LoadedLibraryEntry, event: KeyspaceEvent): object {
    const realm = entry.library.sandbox.realm;
    const data = new realm.Object() as Record<string, unknown>;
    data['event'] = event.event;
    data['key'] = decodeUtf8(event.key);
    data['key_raw'] = realmArrayBuffer(realm, event.key);
    return data;
  }
}
