/**
 * Delivers stream entries to stream triggers (stream_reader.rs): per (trigger, stream) in id order, at most
 * `window` in flight; a sync callback is acknowledged at once so one call drains everything available; errors
 * are recorded and the position still advances; the acknowledged head is persisted and, with isStreamTrimmed,
 * the stream is trimmed to the slowest consumer of all libraries.
 *
 * Round trips to Redis are the cost of this path (each one blocks the main thread on the sync connection), so:
 * - a read asks for one entry more than the window has room for: a shorter reply proves the stream exhausted,
 *   with no empty read after the last entry;
 * - the acknowledged heads ride in front of the host connection's next batch in the store's database (the
 *   next capture's first call, typically), or are written SAVE_DELAY_MS after the pass at the latest. A runtime
 *   killed in between delivers those entries again when it restarts: at-least-once across a runtime crash, as
 *   RedisGears is across a failover; a stopped runtime writes them as it closes.
 */
import type { RespValue } from '../resp/types.js';
import type { Logger } from '../../shared/log.js';
import type { AccessControl } from '../access/access-control.js';
import type { Rider, SyncRedis } from '../sync-redis/sync-redis.js';
import { Op, type GuestBytes } from './guest/protocol.js';
import { compareStreamIds } from '../../shared/stream-id.js';
import { StreamTrigger, streamStateKey, type StreamConsumerState } from './stream-trigger.js';
import { runTrigger, type Outcome } from './invocation.js';
import { STORE_DB, type LibraryStore, type StoredPosition } from './library-store.js';
import { guestBytes } from './guest-bytes.js';
import type { LoadedLibraryEntry } from './loaded-library.js';
import type { LibraryCalls } from './library-calls.js';
import type { Appended, StreamAppends, StreamEntry } from './stream-appends.js';
import type { TouchedStream } from '../gears-host.js';

/**
 * How often acknowledged heads are written: in front of the first batch in the store's database once this long
 * passed since the last write, else by a timer this long after. A record is re-delivered after a runtime crash
 * only if it was acknowledged within this window (at-least-once, docs/runtime.md); writing on every batch cost
 * redis-server a command per captured write.
 */
const SAVE_DELAY_MS = 20;

export class StreamReader {
  readonly #libraries: () => Iterable<LoadedLibraryEntry>;
  readonly #redis: SyncRedis;
  readonly #store: LibraryStore;
  readonly #log: Logger;
  readonly #calls: LibraryCalls;
  readonly #appends: StreamAppends;
  readonly #access: AccessControl;
  /** States whose read loop is running: an acknowledgement inside it must not start another loop. */
  readonly #reading = new WeakSet<StreamConsumerState>();
  /** Acknowledged heads not yet written, by library, trigger, db and stream. */
  readonly #unsaved = new Map<string, StoredPosition>();
  #saveTimer: NodeJS.Timeout | null = null;
  /** When heads were last written (performance.now()). */
  #savedAt = -Infinity;

  constructor(options: {
    libraries: () => Iterable<LoadedLibraryEntry>;
    redis: SyncRedis;
    store: LibraryStore;
    log: Logger;
    calls: LibraryCalls;
    appends: StreamAppends;
    access: AccessControl;
  }) {
    this.#libraries = options.libraries;
    this.#redis = options.redis;
    this.#store = options.store;
    this.#log = options.log;
    this.#calls = options.calls;
    this.#appends = options.appends;
    this.#access = options.access;
    this.#redis.carryRiders((db) => (db === STORE_DB ? this.#takeUnsaved() : null));
  }

  matches(key: Buffer): boolean {
    for (const { library } of this.#libraries()) {
      for (const trigger of library.streamTriggers.values()) if (trigger.matches(key)) return true;
    }
    return false;
  }

  /**
   * Forgets, marks and reads each stream as its events ask (TouchedStream); a read delivers its new entries to
   * every matching trigger. When a stream's events in the window were
   * just the appends its own library calls made (`appends`, see stream-appends.ts), a consumer that had read
   * the stream to its end gets those entries as the calls gave them, without reading the stream back; when they
   * added no entry (`appends` 0: trims, XDEL, consumer groups), such a consumer is left alone.
   */
  process(streams: readonly TouchedStream[]): void {
    const appended = this.#appends.take();
    for (const stream of streams) {
      const stateKey = streamStateKey(stream.db, stream.key);
      // As RedisGears' post-notification jobs, in the order of the events: a del forgets the positions
      // (on_stream_deleted), a stream event reads (on_stream_touched), and nothing else does either.
      if (stream.forgetBefore) this.forget(stream.db, stream.key);
      if (stream.replaced) this.#unsettle(stateKey);
      if (stream.read) this.#readTouched(stream, stateKey, appended);
      if (stream.forgetAfter) this.forget(stream.db, stream.key);
    }
  }

  /** The stream has read nothing at `stateKey` since its entries may have been replaced: no consumer is caught up. */
  #unsettle(stateKey: string): void {
    for (const { library } of this.#libraries()) {
      for (const trigger of library.streamTriggers.values()) {
        const state = trigger.streams.get(stateKey);
        if (state) state.caughtUp = false;
      }
    }
  }

  #readTouched(stream: TouchedStream, stateKey: string, appended: Appended): void {
    const entries = appended.get(stateKey);
    const fed = stream.appends != null && entries != null && entries.length === stream.appends ? entries : null;
    // Every matching consumer is tracked before any of them is served (on_stream_touched), so the first one's
    // acknowledgement cannot trim entries a later consumer has not read yet.
    const consumers: [LoadedLibraryEntry, StreamTrigger, StreamConsumerState][] = [];
    for (const entry of [...this.#libraries()]) {
      for (const trigger of [...entry.library.streamTriggers.values()]) {
        if (trigger.matches(stream.key) && entry.library.active) consumers.push([entry, trigger, trigger.state(stream.db, stream.key, stateKey)]);
      }
    }
    for (const [entry, trigger, state] of consumers) {
      // Events that added no entry (the library's XTRIM after a commit, typically): a consumer that had read
      // the stream to its end would read nothing, so it does not read (nor ask whether the stream exists).
      if (stream.appends === 0 && state.caughtUp) continue;
      if (fed === null || !this.#deliverAppended(entry, trigger, state, fed)) this.#read(entry, trigger, state);
    }
  }

  /** Delivers entries just appended to a stream this consumer had read to its end; false: it must read instead. */
  #deliverAppended(entry: LoadedLibraryEntry, trigger: StreamTrigger, state: StreamConsumerState, entries: readonly StreamEntry[]): boolean {
    if (!state.caughtUp || state.lastReadId === null || this.#reading.has(state) || compareStreamIds(entries[0]!.id, state.lastReadId) <= 0) return false;
    this.#reading.add(state);
    try {
      for (const item of entries) {
        if (!this.#mayDeliver(entry, trigger, state)) {
          state.caughtUp = false;
          return false;
        }
        this.#deliver(entry, trigger, state, item);
      }
      return true;
    } finally {
      this.#reading.delete(state);
    }
  }

  /**
   * Streams of every database whose name starts with one of these prefixes (SCAN … TYPE stream), each to be read
   * as on a stream event (scan_key_space_for_streams calls on_stream_touched for every stream).
   */
  scan(prefixes: readonly Buffer[]): TouchedStream[] {
    if (prefixes.length === 0) return [];
    const found: TouchedStream[] = [];
    for (const db of this.#databases()) {
      for (const prefix of prefixes) {
        let cursor = '0';
        do {
          const reply = this.#redis.call(['SCAN', cursor, 'MATCH', Buffer.concat([globEscape(prefix), Buffer.from('*')]), 'COUNT', '1000', 'TYPE', 'stream'], db);
          if (reply.type !== 'array') break;
          cursor = text(reply.value[0]);
          const keys = reply.value[1];
          if (keys?.type === 'array') {
            for (const key of keys.value) {
              if (key.type === 'blob') found.push({ db, key: key.value, read: true, forgetBefore: false, forgetAfter: false, replaced: false, appends: null });
            }
          }
        } while (cursor !== '0');
      }
    }
    return found;
  }

  /** Forgets the state of a deleted stream in every trigger (RedisGears drops it on DEL). */
  forget(db: number, key: Buffer): void {
    for (const { library } of this.#libraries()) {
      for (const trigger of library.streamTriggers.values()) {
        const position = { library: library.name, trigger: trigger.name, db, stream: key };
        this.#unsaved.delete(unsavedKey(position));
        if (trigger.streams.delete(streamStateKey(db, key))) this.#store.deletePosition(position);
      }
    }
  }

  #databases(): number[] {
    const reply = this.#redis.call(['INFO', 'keyspace']);
    const info = reply.type === 'blob' || reply.type === 'verbatim' ? reply.value.toString('utf8') : '';
    const dbs = [...info.matchAll(/^db(\d+):/gm)].map((m) => Number(m[1]));
    return dbs.length > 0 ? dbs : [0];
  }

  #read(entry: LoadedLibraryEntry, trigger: StreamTrigger, state: StreamConsumerState): void {
    if (this.#reading.has(state)) return;
    this.#reading.add(state);
    try {
      this.#readLoop(entry, trigger, state);
    } finally {
      this.#reading.delete(state);
    }
    // An event on a stream that has no entry (e.g. the DEL of one) must not leave an empty state behind: RedisGears
    // only tracks streams it has read from.
    if (state.lastReadId === null && state.pending.length === 0 && state.recordsProcessed === 0) {
      if (trigger.streams.get(state.stateKey) === state) trigger.streams.delete(state.stateKey);
    }
  }

  #readLoop(entry: LoadedLibraryEntry, trigger: StreamTrigger, state: StreamConsumerState): void {
    state.caughtUp = false;
    while (this.#mayDeliver(entry, trigger, state)) {
      const start = state.lastReadId === null ? '-' : `(${state.lastReadId}`;
      const room = trigger.window - state.pending.length;
      const reply = this.#redis.call(['XRANGE', state.key, start, '+', 'COUNT', String(room + 1)], state.db);
      const entries = parseEntries(reply);
      if (entries.length === 0) {
        // A stream gone (expired, renamed away) or replaced by another type keeps its position: RedisGears forgets
        // it on `del` only, and its reader stops at the failed read (stream_reader.rs, read_next_data).
        if (reply.type !== 'error') state.caughtUp = true;
        return;
      }
      // The entry past the room is not delivered from this reply: a callback may delete or trim it first.
      for (const item of entries.slice(0, room)) this.#deliver(entry, trigger, state, item);
      if (entries.length <= room) {
        state.caughtUp = true;
        return;
      }
    }
  }

  /** Whether the consumer has room in its window, and its library and trigger are still the loaded ones. */
  #mayDeliver(entry: LoadedLibraryEntry, trigger: StreamTrigger, state: StreamConsumerState): boolean {
    return state.pending.length < trigger.window && entry.library.active && entry.library.streamTriggers.get(trigger.name) === trigger;
  }

  /** Writes the acknowledged heads not yet written (a closing runtime; the timer). */
  savePositions(): void {
    if (this.#saveTimer !== null) clearTimeout(this.#saveTimer);
    this.#saveTimer = null;
    if (this.#unsaved.size === 0) return;
    const positions = [...this.#unsaved.values()];
    this.#unsaved.clear();
    this.#savedAt = performance.now();
    this.#store.savePositions(positions);
  }

  /** The server became a replica: the heads not yet written cannot be (its primary's runtime saved its own). */
  discardUnsaved(): void {
    if (this.#saveTimer !== null) clearTimeout(this.#saveTimer);
    this.#saveTimer = null;
    this.#unsaved.clear();
  }

  /** The heads to write in front of the next batch in the store's database, or null. */
  #takeUnsaved(): Rider | null {
    if (this.#unsaved.size === 0 || performance.now() - this.#savedAt < SAVE_DELAY_MS) return null;
    const positions = [...this.#unsaved.values()];
    const save = this.#store.savePositionsCommand(positions);
    if (save === null) return null;
    this.#unsaved.clear();
    this.#savedAt = performance.now();
    return save;
  }

  #scheduleSave(): void {
    if (this.#saveTimer !== null || this.#unsaved.size === 0) return;
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = null;
      // A batch carried the heads meanwhile: the next write waits out the rest of its interval.
      if (performance.now() - this.#savedAt < SAVE_DELAY_MS) return this.#scheduleSave();
      try {
        this.savePositions();
      } catch (error) {
        this.#log.error({ err: error }, 'writing stream trigger positions failed');
      }
    }, Math.max(1, this.#savedAt + SAVE_DELAY_MS - performance.now()));
    this.#saveTimer.unref();
  }

  #deliver(entry: LoadedLibraryEntry, trigger: StreamTrigger, state: StreamConsumerState, item: StreamEntry): void {
    state.lastReadId = item.id;
    state.pending.push(item.id);
    const started = performance.now();
    const key = guestBytes(state.key);
    const fields: GuestBytes[] = new Array(item.fields.length * 2);
    for (let i = 0; i < item.fields.length; i += 1) {
      const [field, value] = item.fields[i]!;
      fields[2 * i] = guestBytes(field);
      fields[2 * i + 1] = guestBytes(value);
    }
    const done = (outcome: Outcome) => this.#ack(entry, trigger, state, item.id, started, outcome.ok ? null : outcome.error);
    // The owner must have every permission on the stream, or the record is failed without running (the position moves on).
    const denial = this.#access.triggerKeyDenial(entry.library.metadata.user, state.key);
    if (denial !== null) return done({ ok: false, error: denial });
    runTrigger(
      entry,
      state.db,
      {
        op: Op.STREAM,
        args: (clientId) => [trigger.index, clientId, key, item.id, fields],
        isAsync: trigger.isAsync,
        onUnhandled: (reason) => {
          state.lastError = `Unhandled promise rejection: ${reason}`;
        },
      },
      done,
    );
  }

  #ack(entry: LoadedLibraryEntry, trigger: StreamTrigger, state: StreamConsumerState, id: string, started: number, error: string | null): void {
    const headMoved = StreamTrigger.ack(state, id, started, error);
    if (error !== null) this.#log.debug({ library: entry.library.name, trigger: trigger.name, error }, 'stream trigger callback failed');
    // A deleted stream's state is gone: late completions must not resurrect it.
    if (trigger.streams.get(state.stateKey) !== state) return;
    if (headMoved) {
      const resumeFrom = StreamTrigger.trimPoint(state);
      if (resumeFrom) {
        const position = { library: entry.library.name, trigger: trigger.name, db: state.db, stream: state.key, resumeFrom };
        this.#unsaved.set(unsavedKeyOf(position.library, position.trigger, state.stateKey), position);
      }
      if (trigger.trim) this.#trim(state.db, state.key);
    }
    // Room in the window again: read on (async completions arrive outside any command).
    if (entry.library.active) this.#read(entry, trigger, state);
    this.#scheduleSave();
  }

  /** XTRIM MINID to the slowest consumer of this stream over all libraries. */
  #trim(db: number, key: Buffer): void {
    let min: string | null = null;
    for (const { library } of this.#libraries()) {
      for (const trigger of library.streamTriggers.values()) {
        const state = trigger.streams.get(streamStateKey(db, key));
        if (!state) continue;
        const point = StreamTrigger.trimPoint(state);
        if (point === null) return;
        if (min === null || compareStreamIds(point, min) < 0) min = point;
      }
    }
    if (min === null) return;
    const xtrim = [Buffer.from('XTRIM'), key, Buffer.from('MINID'), Buffer.from(min)];
    this.#calls.runShared(xtrim, [xtrim], db);
  }
}

function unsavedKey(position: Omit<StoredPosition, 'resumeFrom'>): string {
  return unsavedKeyOf(position.library, position.trigger, streamStateKey(position.db, position.stream));
}

function unsavedKeyOf(library: string, trigger: string, stateKey: string): string {
  return `${library}\n${trigger}\n${stateKey}`;
}

function parseEntries(reply: RespValue): StreamEntry[] {
  if (reply.type !== 'array') return [];
  const out: StreamEntry[] = [];
  for (const item of reply.value) {
    if (item.type !== 'array') continue;
    const [id, fields] = item.value;
    const pairs: [Buffer, Buffer][] = [];
    if (fields?.type === 'array') {
      for (let i = 0; i + 1 < fields.value.length; i += 2) pairs.push([blobOf(fields.value[i]!), blobOf(fields.value[i + 1]!)]);
    } else if (fields?.type === 'map') {
      for (const [k, v] of fields.value) pairs.push([blobOf(k), blobOf(v)]);
    }
    out.push({ id: text(id), fields: pairs });
  }
  return out;
}

function blobOf(value: RespValue): Buffer {
  if (value.type === 'blob' || value.type === 'verbatim') return value.value;
  if (value.type === 'simple') return Buffer.from(value.value);
  return Buffer.alloc(0);
}

function text(value: RespValue | undefined): string {
  return value ? blobOf(value).toString('utf8') : '';
}

/** A prefix as a literal in a SCAN MATCH glob. */
function globEscape(prefix: Buffer): Buffer {
  const out: number[] = [];
  for (const byte of prefix) {
    if (byte === 0x2a || byte === 0x3f || byte === 0x5b || byte === 0x5d || byte === 0x5c) out.push(0x5c);
    out.push(byte);
  }
  return Buffer.from(out);
}
