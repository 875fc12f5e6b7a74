/**
 * Runs keyspace triggers for the events of one command (keys_notifications.rs, v8_notifications_ctx.rs): for
 * every event, every matching trigger of every library in registration order counts the event and runs its
 * onTriggerFired (read-only client; a failure skips the main callback); then, as post-notification jobs, the
 * main callbacks run: sync ones now (writes allowed), async ones on the background thread. Failures are only
 * recorded in the trigger's stats, never shown to the writer.
 *
 * A sync callback that failed after the server refused one of its calls with CLUSTERDOWN is not recorded: it is
 * kept to be fired again (refire()) once the cluster takes calls. In Redis the write and its triggers are one
 * execution unit, so the cluster state cannot change between them; here the callback's calls follow the write's
 * reply, and a cluster that lost a node in between refuses them, though the write ran (docs/runtime.md, cluster
 * mode). Fired again, a trigger that reads the key's state (the write-behind capture) records what the write left.
 */
import type { KeyspaceEvent } from '../gears-host.js';
import type { Logger } from '../../shared/log.js';
import type { AccessControl } from '../access/access-control.js';
import { Op, Phase } from './guest/protocol.js';
import { guestBytes } from './guest-bytes.js';
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

/** A sync callback cut by CLUSTERDOWN, to be fired again; `error` is what it failed with. */
interface InterruptedCallback {
  readonly entry: LoadedLibraryEntry;
  readonly trigger: KeyspaceTrigger;
  readonly event: KeyspaceEvent;
  readonly started: number;
  readonly error: string;
}

/** Callbacks kept to be fired again at most: beyond, one more cut by CLUSTERDOWN counts as failed at once. */
export const MAX_INTERRUPTED = 10_000;

export class KeyspaceDispatcher {
  readonly #libraries: () => Iterable<LoadedLibraryEntry>;
  readonly #log: Logger;
  readonly #access: AccessControl;
  /** The host's count of library calls refused with CLUSTERDOWN (LibraryCalls.clusterDownReplies). */
  readonly #clusterDownReplies: () => number;
  #nextDataId = 1;
  #interrupted: InterruptedCallback[] = [];

  constructor(libraries: () => Iterable<LoadedLibraryEntry>, log: Logger, access: AccessControl, clusterDownReplies: () => number = () => 0) {
    this.#libraries = libraries;
    this.#log = log;
    this.#access = access;
    this.#clusterDownReplies = clusterDownReplies;
  }

  /** Callbacks cut by CLUSTERDOWN, waiting to be fired again. */
  get interrupted(): number {
    return this.#interrupted.length;
  }

  /**
   * Fires the callbacks cut by CLUSTERDOWN again, oldest first (each counted once: its first firing was not
   * recorded). One whose library was replaced or deleted meanwhile counts as failed with its first error.
   */
  refire(): void {
    const interrupted = this.#interrupted;
    this.#interrupted = [];
    const loaded = new Set(this.#libraries());
    const callbacks: PendingCallback[] = [];
    for (const { entry, trigger, event, started, error } of interrupted) {
      if (!loaded.has(entry) || !entry.library.active || entry.library.keyspaceTriggers.get(trigger.name) !== trigger) {
        trigger.recordFinished(started, error);
        continue;
      }
      const callback = this.#admit(entry, trigger, event);
      if (callback !== null) callbacks.push(callback);
    }
    for (const callback of callbacks) this.#run(callback);
  }

  /** The server is a replica now: the callbacks cut by CLUSTERDOWN will not run here; they count as failed. */
  dropInterrupted(): void {
    for (const { trigger, started, error } of this.#interrupted) trigger.recordFinished(started, error);
    this.#interrupted = [];
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
          const callback = this.#admit(entry, trigger, event);
          if (callback !== null) callbacks.push(callback);
        }
      }
    }
    for (const callback of callbacks) {
      if (callback.entry.library.active) this.#run(callback);
    }
  }

  /** The owner's permission on the key, then onTriggerFired: the callback to run, or null (recorded as failed). */
  #admit(entry: LoadedLibraryEntry, trigger: KeyspaceTrigger, event: KeyspaceEvent): PendingCallback | null {
    // The owner must have every permission on the key, or the trigger fails before any of its code runs.
    const denial = this.#access.triggerKeyDenial(entry.library.metadata.user, event.key);
    if (denial !== null) {
      trigger.recordFinished(performance.now(), denial);
      return null;
    }
    const callback = { entry, trigger, event, dataId: this.#nextDataId++ };
    if (trigger.hasOnTriggerFired && !this.#onTriggerFired(callback)) return null;
    return callback;
  }

  /** Runs onTriggerFired with a read-only client; false (and a recorded failure) when it threw or timed out. */
  #onTriggerFired({ entry, trigger, event, dataId }: PendingCallback): boolean {
    const started = performance.now();
    const clientId = entry.clients.openSync({ db: event.db, noWrites: true, user: entry.library.metadata.user });
    const key = guestBytes(event.key);
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
    const key = guestBytes(event.key);
    const refusedBefore = this.#clusterDownReplies();
    // A sync callback's outcome comes before runTrigger returns; only those can be told apart by the count.
    let running = !trigger.isAsync;
    runTrigger(
      entry,
      event.db,
      {
        op: Op.KEYSPACE,
        args: (clientId) => [trigger.index, Phase.CALLBACK, clientId, dataId, event.event, key],
        isAsync: trigger.isAsync,
        onUnhandled: (reason) => recordUnhandled(trigger, reason),
      },
      (outcome) => {
        if (running && !outcome.ok && this.#clusterDownReplies() > refusedBefore && this.#interrupted.length < MAX_INTERRUPTED) {
          this.#interrupted.push({ entry, trigger, event, started, error: outcome.error });
          this.#log.debug({ library: entry.library.name, trigger: trigger.name, error: outcome.error }, 'keyspace trigger cut by CLUSTERDOWN: fired again once the cluster is up');
          return;
        }
        this.#finish(entry, trigger, started, outcome);
      },
    );
    running = false;
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
