/**
 * Keeps the library store (library-store.ts: the libraries' hash and the stream positions' hash) in redis-server
 * while the runtime holds it in memory. Other hands can make a key of it go away: the server evicts it under an
 * `allkeys-*` policy or expires it after a client's EXPIRE; a client DELs, UNLINKs, RENAMEs, MOVEs or SETs over it,
 * straight on redis-server or through the runtime (which passes commands on its own keys through). A runtime
 * started after that finds no library and captures nothing, silently. So every keyspace event on the store's keys
 * brings a look at them, under the lock: a key that lacks what the runtime holds has the whole store written again
 * from memory, as after a FLUSHALL (LibraryHost's rewriteStore, the one place that does it), and a TTL on it is
 * removed (RedisGears' libraries never vanish by themselves). Each loss is logged (warn) with the key and its cause.
 *
 * The key's state decides, not the event: the runtime's own writes raise `hdel` and `del` too (TFUNCTION DELETE,
 * a deleted stream's position, the rewrite's DEL of the positions), and a look's own read of an expired key raises
 * its `expired` after the look. What counts as lost: a key that is no hash (gone, or a client's value in its place),
 * a library the runtime runs missing from the libraries' hash; for the positions, after an event only another hand
 * raises (`evicted`, `expired`, `rename_from`, `move_from`, `set`, …), fewer fields than the runtime holds positions
 * (the positions' 20 ms timer may have written a few again since). Events that remove nothing (`hset`, the
 * runtime's own writes; `keymiss`, `persist`) bring no look.
 *
 * A store lost again right after it was written (memory pressure evicting it at once, a client deleting it in a
 * loop) must not be rewritten at every event: a rewrite within QUIET_MS of the previous one makes the next wait
 * FIRST_WAIT_MS, then twice as long each time up to MAX_WAIT_MS; a store that stayed written for QUIET_MS is
 * written again at once the next time. Events during a wait make one rewrite at its end, each lost key logged once.
 * A rewrite that fails (an OOM reply under maxmemory) is logged and tried again after the wait.
 *
 * The runtime's two strings beside the store (runtime/unclean-stops.ts) are kept the same way, once the runtime
 * has written them (KeptString): its running mark, without which a crash of this runtime would leave no mark, the
 * next runtime would count no unclean stop and the worker would never repair what the crash left uncaptured; and
 * its unclean-stop count, which, gone or lowered, would restart at or below the count the worker repaired after
 * (worker/unclean-stop-repair.ts compares the two), so the next unclean stops would go unrepaired. Either is set
 * again (SET, which also drops a TTL and a client's value of another type) when a look finds it gone or lacking,
 * with the same waits, and a TTL on it is removed. The count is set back to the last value this runtime knows
 * (the one it read or counted itself): never higher than what was counted, so no stop is counted twice. The
 * runtime's own DEL of its mark at a clean stop is no loss: the mark is released (`release`) before it.
 *
 * A FLUSHALL or FLUSHDB raises no keyspace event. The keyspace subscription hears of each (any database: the server
 * does not say which) from the server's tracking (keyspace-subscriber.ts onFlush), through the runtime or straight
 * on redis-server, and `noteFlush` looks at every key as after an event only another hand raises (cause `flushed`).
 * Through the runtime the store is already written again (LibraryHost.afterFlush) and only the strings are set.
 */
import type { KeptString, KeyspaceEvent, LockedExecutor } from '../gears-host.js';
import type { Logger } from '../../shared/log.js';
import { errorMessage } from '../../shared/errors.js';
import { STORE_DB, type LibraryStore, type StoreHash } from './library-store.js';

export const FIRST_WAIT_MS = 1000;
export const MAX_WAIT_MS = 60_000;
export const QUIET_MS = 60_000;

/** Events that remove nothing from a hash: writes that add to it (the runtime's own), reads of a missing key, PERSIST. */
const HARMLESS_EVENTS = new Set(['hset', 'hincrby', 'hincrbyfloat', 'keymiss', 'persist']);
/** Events the runtime's own store writes raise too, and `expire` (a TTL set: the key is there yet). */
const NOT_ONLY_OTHERS = new Set(['hdel', 'del', 'expire']);
const HASHES: readonly StoreHash[] = ['libraries', 'positions'];

/** What the runtime holds of the store, and how it writes it. */
export interface HeldStore {
  /** The server is a primary: a replica's store is its primary's, replicated to it. */
  isPrimary(): boolean;
  /** The names of the libraries the runtime runs (each has a field in the libraries' hash). */
  libraryNames(): string[];
  /** How many stream positions the runtime would write. */
  positionCount(): number;
  /** Writes the whole store again from memory, as after a FLUSHALL. */
  rewrite(): void;
}

export type LossCause = 'evicted' | 'expired' | 'deleted' | 'flushed';

/** The pseudo-event noteFlush records on every key: a FLUSHALL or FLUSHDB, which raises no keyspace event. */
const FLUSH = 'flush';

/**
 * A key of the store, or a kept string, found lacking what the runtime holds, and the events seen on it since the
 * last look.
 */
interface Loss {
  /** The store's hash it is; absent for a kept string. */
  readonly which?: StoreHash;
  readonly kept?: KeptString;
  readonly key: string;
  readonly cause: LossCause;
  readonly events: readonly string[];
}

export class StoreGuard {
  readonly #store: LibraryStore;
  readonly #held: HeldStore;
  readonly #executor: LockedExecutor;
  readonly #log: Logger;
  /** The events seen on each of the store's keys (by name) since the last look, each name once, in arrival order. */
  #events = new Map<string, Set<string>>();
  /** The strings kept beside the store, by key (keep, release). */
  readonly #kept = new Map<string, KeptString>();
  #scheduled = false;
  #timer: NodeJS.Timeout | undefined;
  #lastRewrite = -Infinity;
  /** How long after the last rewrite the next one may run. */
  #wait = 0;
  #closed = false;

  constructor(store: LibraryStore, held: HeldStore, executor: LockedExecutor, log: Logger) {
    this.#store = store;
    this.#held = held;
    this.#executor = executor;
    this.#log = log;
  }

  /** A keyspace event on a store key, as it arrives (outside the lock): a look is scheduled. */
  note(event: KeyspaceEvent): void {
    if (this.#closed || HARMLESS_EVENTS.has(event.event) || event.db !== STORE_DB) return;
    this.#remember(event.key.toString('latin1'), [event.event]);
    this.#schedule();
  }

  /**
   * A database was flushed (FLUSHALL, FLUSHDB of any database: the server does not say which), through the runtime
   * or straight on redis-server: every key of the store and every kept string is looked at, as after an event on
   * each. A flush of another database than the store's finds nothing lacking, and writes nothing.
   */
  noteFlush(): void {
    if (this.#closed) return;
    const keys = this.#store.keys();
    for (const key of [...(keys ? [keys.libraries, keys.positions] : []), ...this.#kept.keys()]) this.#remember(key, [FLUSH]);
    this.#schedule();
  }

  /** Keeps `kept` from now on (the runtime wrote it): gone by another hand, it is set again. */
  keep(kept: KeptString): void {
    this.#kept.set(kept.key, kept);
  }

  /** Stops keeping the string under `key`: before the runtime deletes it itself (its mark at a clean stop). */
  release(key: string): void {
    this.#kept.delete(key);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #remember(key: string, events: Iterable<string>): void {
    let seen = this.#events.get(key);
    if (!seen) this.#events.set(key, (seen = new Set()));
    for (const event of events) seen.add(event);
  }

  #schedule(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    const delay = Math.max(0, this.#lastRewrite + this.#wait - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#executor.runLocked(() => this.#look()).catch((error: unknown) => {
        this.#log.error({ err: errorMessage(error) }, 'looking at the library store after an event on its keys failed');
      });
    }, delay);
    this.#timer.unref();
  }

  /** With the lock held: what each key that had events lost, the rewrite it needs, the TTLs to remove. */
  #look(): void {
    this.#scheduled = false;
    const events = this.#events;
    this.#events = new Map();
    const keys = this.#store.keys();
    if (this.#closed || !keys || !this.#held.isPrimary()) return;
    const lost: Loss[] = [];
    const expected = { libraries: this.#held.libraryNames(), positions: this.#held.positionCount() };
    for (const which of HASHES) {
      const key = keys[which];
      const seen = events.get(key);
      if (!seen) continue;
      const state = this.#store.look(which);
      if (!state) continue;
      const held = which === 'libraries' ? expected.libraries.length : expected.positions;
      const byOther = [...seen].find((event) => !NOT_ONLY_OTHERS.has(event));
      const missing =
        state.type !== 'hash' ||
        (which === 'libraries' ? expected.libraries.some((name) => !state.fields.has(name)) : byOther !== undefined && state.size < held);
      if (held > 0 && missing) {
        // A client's value in the hash's place (SET over it): the hash cannot be written over it.
        if (state.type !== 'hash' && state.type !== 'none') this.#store.clear(which);
        lost.push({ which, key, cause: causeOf(byOther ?? [...seen].at(-1)!), events: [...seen] });
      }
      if (state.type === 'hash' && state.ttlMs >= 0) {
        // A TTL of a millisecond may run out between the look and the PERSIST: that key's `expired` comes next,
        // and is the one loss to warn of.
        const removed = this.#store.persist(which);
        if (removed && !lost.some((l) => l.which === which)) this.#log.warn({ key, cause: 'ttl', ttlMs: state.ttlMs, events: [...seen] }, 'a TTL was set on a key of the runtime’s library store: removed (PERSIST), as RedisGears’ libraries never vanish by themselves');
      }
    }
    for (const kept of this.#kept.values()) {
      const seen = events.get(kept.key);
      if (!seen) continue;
      const state = this.#store.lookString(kept.key);
      if (!state) continue;
      // A client's value of another type counts as none (a count still at 0 that goes away lacks nothing).
      if (kept.lacks(state.type === 'string' ? state.value : null)) {
        const byOther = [...seen].find((event) => !NOT_ONLY_OTHERS.has(event));
        lost.push({ kept, key: kept.key, cause: causeOf(byOther ?? [...seen].at(-1)!), events: [...seen] });
      } else if (state.ttlMs >= 0 && this.#store.persistString(kept.key)) {
        this.#log.warn({ key: kept.key, cause: 'ttl', ttlMs: state.ttlMs, events: [...seen] }, `a TTL was set on ${kept.what}: removed (PERSIST), as the runtime keeps it for as long as it runs`);
      }
    }
    if (lost.length > 0) this.#rewrite(lost);
  }

  #rewrite(lost: readonly Loss[]): void {
    const now = performance.now();
    this.#wait = now - this.#lastRewrite < QUIET_MS ? Math.min(Math.max(this.#wait * 2, FIRST_WAIT_MS), MAX_WAIT_MS) : FIRST_WAIT_MS;
    this.#lastRewrite = now;
    const held = { libraries: this.#held.libraryNames().length, positions: this.#held.positionCount() };
    const written: Loss[] = [];
    try {
      if (lost.some((loss) => loss.kept === undefined)) this.#held.rewrite();
      for (const loss of lost) if (loss.kept === undefined || this.#store.writeString(['SET', loss.key, loss.kept.value()])) written.push(loss);
    } catch (error) {
      for (const { key, cause, events, kept } of lost) {
        this.#log.error(
          { key, cause, events, err: errorMessage(error), retryInMs: this.#wait },
          kept === undefined
            ? `a key of the runtime’s library store was ${cause} and could not be written again; trying again after the wait (a runtime started before then finds no library)`
            : `${kept.what} was ${cause} and could not be set again; trying again after the wait`,
        );
        this.#remember(key, events);
      }
      this.#schedule();
      return;
    }
    for (const { key, cause, events, kept } of written) {
      if (kept === undefined) {
        this.#log.warn(
          { key, cause, events, ...held, nextRewriteAfterMs: this.#wait },
          `a key of the runtime’s library store was ${cause}: written again from the runtime’s memory, as after a FLUSHALL`,
        );
      } else {
        this.#log.warn({ key, cause, events, value: kept.value(), nextRewriteAfterMs: this.#wait }, `${kept.what} was ${cause}: set again to the runtime’s value`);
      }
    }
  }
}

function causeOf(event: string): LossCause {
  if (event === 'evicted') return 'evicted';
  if (event === FLUSH) return 'flushed';
  // `expire` alone: the key's TTL had passed when the look read it (the read expired it).
  if (event === 'expired' || event === 'expire') return 'expired';
  return 'deleted';
}
