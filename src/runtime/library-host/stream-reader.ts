/**
 * Delivers stream entries to stream triggers (stream_reader.rs): per (trigger, stream) in id order, at most
 * `window` in flight; a sync callback is acknowledged at once so one call drains everything available; errors
 * are recorded and the position still advances; the acknowledged head is persisted and, with isStreamTrimmed,
 * the stream is trimmed to the slowest consumer of all libraries.
 *
 * Round trips to Redis are the cost of this path (each one blocks the main thread on the sync connection), so
 * the acknowledged heads of a pass are written together, pipelined with the pass's next XRANGE or at the end of
 * the pass at the latest: a position is always stored before the command that caused the pass gets its reply.
 */
import type { RespValue } from '../resp/types.js';
import type { Logger } from '../../shared/log.js';
import type { AccessControl } from '../access/access-control.js';
import type { CommandArgument, SyncRedis } from '../sync-redis/sync-redis.js';
import { Op } from './guest/protocol.js';
import { compareStreamIds } from '../../shared/stream-id.js';
import { StreamTrigger, streamStateKey, type StreamConsumerState } from './stream-trigger.js';
import { runTrigger, type Outcome } from './invocation.js';
import { STORE_DB, type LibraryStore, type StoredPosition } from './library-store.js';
import type { LoadedLibraryEntry } from './loaded-library.js';

interface StreamEntry {
  /** "ms-seq" as Redis replied it. */
  readonly id: string;
  readonly fields: [Buffer, Buffer][];
}

export class StreamReader {
  readonly #libraries: () => Iterable<LoadedLibraryEntry>;
  readonly #redis: SyncRedis;
  readonly #store: LibraryStore;
  readonly #log: Logger;
  readonly #countCall: (argv: readonly Buffer[] | null) => void;
  readonly #access: AccessControl;
  /** States whose read loop is running: an acknowledgement inside it must not start another loop. */
  readonly #reading = new WeakSet<StreamConsumerState>();
  /** Acknowledged heads not yet written, by library, trigger, db and stream. */
  readonly #unsaved = new Map<string, StoredPosition>();
  /** process() calls running: positions are written at the end of the outermost one. */
  #passes = 0;

  constructor(options: {
    libraries: () => Iterable<LoadedLibraryEntry>;
    redis: SyncRedis;
    store: LibraryStore;
    log: Logger;
    countCall: (argv: readonly Buffer[] | null) => void;
    access: AccessControl;
  }) {
    this.#libraries = options.libraries;
    this.#redis = options.redis;
    this.#store = options.store;
    this.#log = options.log;
    this.#countCall = options.countCall;
    this.#access = options.access;
  }

  matches(key: Buffer): boolean {
    for (const { library } of this.#libraries()) {
      for (const trigger of library.streamTriggers.values()) if (trigger.matches(key)) return true;
    }
    return false;
  }

  /** Reads new entries of each stream for every matching trigger. */
  process(streams: readonly { db: number; key: Buffer }[]): void {
    this.#passes += 1;
    try {
      this.#processStreams(streams);
    } finally {
      this.#passes -= 1;
      if (this.#passes === 0) this.#savePositions();
    }
  }

  #processStreams(streams: readonly { db: number; key: Buffer }[]): void {
    for (const stream of streams) {
      // Every matching consumer is tracked before any of them is served (on_stream_touched), so the first one's
      // acknowledgement cannot trim entries a later consumer has not read yet.
      const consumers: [LoadedLibraryEntry, StreamTrigger, StreamConsumerState][] = [];
      for (const entry of [...this.#libraries()]) {
        for (const trigger of [...entry.library.streamTriggers.values()]) {
          if (trigger.matches(stream.key) && entry.library.active) consumers.push([entry, trigger, trigger.state(stream.db, stream.key)]);
        }
      }
      for (const [entry, trigger, state] of consumers) this.#read(entry, trigger, state);
    }
  }

  /** Streams of every database whose name starts with one of these prefixes (SCAN … TYPE stream). */
  scan(prefixes: readonly Buffer[]): { db: number; key: Buffer }[] {
    if (prefixes.length === 0) return [];
    const found: { db: number; key: Buffer }[] = [];
    for (const db of this.#databases()) {
      for (const prefix of prefixes) {
        let cursor = '0';
        do {
          const reply = this.#redis.call(['SCAN', cursor, 'MATCH', Buffer.concat([globEscape(prefix), Buffer.from('*')]), 'COUNT', '1000', 'TYPE', 'stream'], db);
          if (reply.type !== 'array') break;
          cursor = text(reply.value[0]);
          const keys = reply.value[1];
          if (keys?.type === 'array') for (const key of keys.value) if (key.type === 'blob') found.push({ db, key: key.value });
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
      const stateKey = streamStateKey(state.db, state.key);
      if (trigger.streams.get(stateKey) === state) trigger.streams.delete(stateKey);
    }
  }

  #readLoop(entry: LoadedLibraryEntry, trigger: StreamTrigger, state: StreamConsumerState): void {
    const { library } = entry;
    while (state.pending.length < trigger.window && library.active && library.streamTriggers.get(trigger.name) === trigger) {
      const start = state.lastReadId === null ? '-' : `(${state.lastReadId}`;
      // EXISTS rides along: an empty read of a stream read before may mean it was deleted.
      const { range: reply, exists } = this.#fetch(state.db, [
        ['XRANGE', state.key, start, '+', 'COUNT', String(trigger.window - state.pending.length)],
        ['EXISTS', state.key],
      ]);
      const entries = parseEntries(reply);
      if (entries.length === 0) {
        const missing = exists.type === 'integer' && exists.value === 0n;
        if (reply.type === 'error' || (state.lastReadId !== null && missing)) this.forget(state.db, state.key);
        return;
      }
      for (const item of entries) {
        state.lastReadId = item.id;
        state.pending.push(item.id);
        this.#deliver(entry, trigger, state, item);
      }
    }
  }

  /** Runs XRANGE and EXISTS in `db`, with the unsaved positions written in the same round trip when they can be. */
  #fetch(db: number, [range, exists]: [CommandArgument[], CommandArgument[]]): { range: RespValue; exists: RespValue } {
    const save = this.#unsaved.size === 0 || db !== STORE_DB ? null : this.#store.savePositionsCommand([...this.#unsaved.values()]);
    if (save === null) {
      const [rangeReply, existsReply] = this.#redis.batch([range, exists], db);
      return { range: rangeReply!, exists: existsReply! };
    }
    this.#unsaved.clear();
    const [saved, rangeReply, existsReply] = this.#redis.batch([save.command, range, exists], db);
    save.check(saved!);
    return { range: rangeReply!, exists: existsReply! };
  }

  #savePositions(): void {
    if (this.#unsaved.size === 0) return;
    const positions = [...this.#unsaved.values()];
    this.#unsaved.clear();
    this.#store.savePositions(positions);
  }

  #deliver(entry: LoadedLibraryEntry, trigger: StreamTrigger, state: StreamConsumerState, item: StreamEntry): void {
    const started = performance.now();
    const key = state.key.toString('latin1');
    const fields = item.fields.flatMap(([field, value]) => [field.toString('latin1'), value.toString('latin1')]);
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
    if (trigger.streams.get(streamStateKey(state.db, state.key)) !== state) return;
    if (headMoved) {
      const resumeFrom = StreamTrigger.trimPoint(state);
      if (resumeFrom) {
        const position = { library: entry.library.name, trigger: trigger.name, db: state.db, stream: state.key, resumeFrom };
        this.#unsaved.set(unsavedKey(position), position);
      }
      if (trigger.trim) this.#trim(state.db, state.key);
    }
    // Room in the window again: read on (async completions arrive outside any command).
    if (entry.library.active) this.#read(entry, trigger, state);
    // An async completion runs outside any pass: nothing else would write its position.
    if (this.#passes === 0) this.#savePositions();
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
    this.#countCall(xtrim);
    this.#redis.call(xtrim, db);
  }
}

function unsavedKey(position: Omit<StoredPosition, 'resumeFrom'>): string {
  return `${position.library}\n${position.trigger}\n${streamStateKey(position.db, position.stream)}`;
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
