/**
 * What Redis Stack keeps in its RDB for RedisGears (rdb.rs aux data), kept here in the backing Redis under one
 * internal prefix so a runtime restart resumes: each library's code, config and owner, and each stream
 * consumer's position. Written on load/delete/ack; rewritten after a FLUSHALL (RedisGears keeps libraries
 * across FLUSHALL) and when a key of it goes away by another hand: evicted, expired, deleted (store-guard.ts).
 */
import type { CommandArgument, SyncRedis } from '../sync-redis/sync-redis.js';
import type { RespValue } from '../resp/types.js';
import { RedisCommandError } from '../../shared/errors.js';
import { hasPrefix } from '../../shared/byte-prefix.js';
import { RUNTIME_KEY_NAMESPACE, RUNTIME_RUNNING_KEY, RUNTIME_UNCLEAN_STOPS_KEY } from '../../shared/keys.js';
import { readHashInPieces } from './hash-in-pieces.js';

/** Every key the runtime itself writes starts with this; the server must not fire triggers for them. */
export const INTERNAL_KEY_PREFIX = RUNTIME_KEY_NAMESPACE;
export const LIBRARIES_KEY = `${INTERNAL_KEY_PREFIX}libraries`;
export const STREAM_POSITIONS_KEY = `${INTERNAL_KEY_PREFIX}stream-positions`;
/** The database the internal keys live in. */
export const STORE_DB = 0;
/**
 * The store's keys, and the runtime's two strings kept beside it (runtime/unclean-stops.ts): its running mark
 * and its unclean-stop count, which the store guard keeps too (gears-host.ts KeptString).
 */
const STORE_KEY_STARTS = [LIBRARIES_KEY, STREAM_POSITIONS_KEY, RUNTIME_RUNNING_KEY, RUNTIME_UNCLEAN_STOPS_KEY].map((key) => Buffer.from(key, 'latin1'));

/**
 * Whether `key` is (or on a cluster may be) one of the store's keys, or the running mark or unclean-stop count:
 * the names above, or those names tagged (a cluster node's, shared/keys.ts runtimeRunningKeyOfNode).
 */
export function isStoreKey(key: Buffer): boolean {
  return STORE_KEY_STARTS.some((start) => hasPrefix(key, start));
}

/** One of the store's two hashes. */
export type StoreHash = 'libraries' | 'positions';

/** What is under one of the store's keys (LibraryStore.look). */
export interface StoreKeyState {
  /** TYPE's reply: `hash`, `none` when the key is gone, or the type a client put in its place. */
  readonly type: string;
  /** PTTL's reply: -1 when the key has no TTL. */
  readonly ttlMs: number;
  /** The hash's field names (the libraries' names); asked of the libraries' hash only. */
  readonly fields: ReadonlySet<string>;
  /** HLEN's reply: how many fields the hash has (0 when it is no hash). */
  readonly size: number;
}

/** The names of the store's two hashes. */
export interface StoreKeys {
  readonly libraries: string;
  readonly positions: string;
  /**
   * On a cluster node: the node id the names carry and their hash tag's content (no braces). The runtime keeps
   * its running mark under the same (runtime/unclean-stops.ts).
   */
  readonly node?: { readonly id: string; readonly tag: string };
}

/**
 * The store's key names, looked up when the store is used: fixed on one Redis; on a cluster node, tagged with a
 * slot the node serves (src/runtime/cluster/cluster-store-keys.ts), or null while it serves none, when nothing
 * can be stored on it (the libraries then live in memory only).
 */
export interface StoreKeysResolver {
  keys(): StoreKeys | null;
  /** The keys' slot has left this node (a MOVED or ASK reply): names under a slot it serves now. */
  relocate(): StoreKeys | null;
  /** The node's role changed: the names are looked up again at the next use. */
  reset?(): void;
}

const STANDALONE_KEYS: StoreKeys = Object.freeze({ libraries: LIBRARIES_KEY, positions: STREAM_POSITIONS_KEY });
export const standaloneStoreKeys: StoreKeysResolver = { keys: () => STANDALONE_KEYS, relocate: () => STANDALONE_KEYS };

/** What the store writes after moving to new keys: every library loaded now (the old keys are on another node). */
export type ResaveLibraries = () => void;

export interface StoredLibrary {
  readonly code: string;
  readonly config: string | null;
  readonly user: string;
}

export interface StoredPosition {
  readonly library: string;
  readonly trigger: string;
  readonly db: number;
  readonly stream: Buffer;
  /** The first id not yet done: reading resumes here (inclusive). */
  /** "ms-seq": the first id not yet done with. */
  readonly resumeFrom: string;
}

export class LibraryStore {
  readonly #redis: SyncRedis;
  readonly #resolver: StoreKeysResolver;
  readonly #resave: ResaveLibraries;
  /** The libraries are being written again under new keys (#relocate). */
  #relocating = false;

  constructor(redis: SyncRedis, resolver: StoreKeysResolver = standaloneStoreKeys, resave: ResaveLibraries = () => undefined) {
    this.#redis = redis;
    this.#resolver = resolver;
    this.#resave = resave;
  }

  /** The server's role changed: the store's names are looked up again (cluster-store-keys.ts). */
  forgetKeys(): void {
    this.#resolver.reset?.();
  }

  saveLibrary(name: string, library: StoredLibrary): void {
    this.#run((keys) => ['HSET', keys.libraries, name, JSON.stringify(library)]);
  }

  deleteLibrary(name: string): void {
    if (this.#run((keys) => ['HDEL', keys.libraries, name]) === null) return;
    const stale = this.loadPositions().filter((p) => p.library === name);
    if (stale.length > 0) this.#run((keys) => ['HDEL', keys.positions, ...stale.map(positionField)]);
  }

  savePositions(positions: readonly StoredPosition[]): void {
    if (positions.length > 0) this.#run((keys) => savePositionsArgs(keys, positions));
  }

  /**
   * The one command (to run in STORE_DB) that stores these positions, for a caller that pipelines it with its
   * own calls, and the check of its reply. Null when there is nowhere to store them (a cluster node serving no
   * slot).
   */
  savePositionsCommand(positions: readonly StoredPosition[]): { command: CommandArgument[]; check(reply: RespValue): void } | null {
    const keys = this.#resolver.keys();
    if (!keys) return null;
    return {
      command: savePositionsArgs(keys, positions),
      check: (reply) => {
        if (isMoved(reply)) this.#run((moved) => savePositionsArgs(moved, positions), true);
        else this.#check(reply);
      },
    };
  }

  deletePosition(position: Omit<StoredPosition, 'resumeFrom'>): void {
    this.#run((keys) => ['HDEL', keys.positions, positionField(position)]);
  }

  /** Replaces every stored position (after a flush). */
  replacePositions(positions: readonly StoredPosition[]): void {
    if (this.#run((keys) => ['DEL', keys.positions]) !== null) this.savePositions(positions);
  }

  /** The store's names now (looked up at the first use); null while there is nowhere to store. */
  keys(): StoreKeys | null {
    return this.#resolver.keys();
  }

  /**
   * What is under one of the store's keys now (store-guard.ts); null while there is nowhere to store, and when the
   * key's slot has left the node (a MIGRATE of it raised the event): the store follows it at its next write, as
   * ever, rather than now, in the middle of a resharding that may be moving the next slots too.
   */
  look(which: StoreHash): StoreKeyState | null {
    const keys = this.#resolver.keys();
    if (!keys) return null;
    const key = keys[which];
    const type = this.#ask(['TYPE', key]);
    const ttl = this.#ask(['PTTL', key]);
    if (type === null || ttl === null) return null;
    const typeName = type.type === 'simple' ? type.value : 'unknown';
    const fields = new Set<string>();
    let size = 0;
    if (typeName === 'hash' && which === 'libraries') {
      const names = this.#ask(['HKEYS', key]);
      if (names?.type === 'array' || names?.type === 'set') for (const name of names.value) fields.add(bytes(name).toString('utf8'));
      size = fields.size;
    } else if (typeName === 'hash') {
      const length = this.#ask(['HLEN', key]);
      size = length?.type === 'integer' ? Number(length.value) : 0;
    }
    return { type: typeName, ttlMs: ttl.type === 'integer' ? Number(ttl.value) : -1, fields, size };
  }

  /** Deletes what a client put under one of the store's keys in place of its hash (a SET over it). */
  clear(which: StoreHash): void {
    this.#run((keys) => ['DEL', keys[which]]);
  }

  /** Removes a TTL a client set on one of the store's keys: RedisGears' libraries never vanish by themselves. */
  /** Whether a TTL was removed: false when the key had none left, or had expired already (its loss comes next). */
  persist(which: StoreHash): boolean {
    const reply = this.#run((keys) => ['PERSIST', keys[which]]);
    return reply?.type === 'integer' && reply.value === 1n;
  }

  /**
   * What is under one of the strings the runtime keeps beside the store (its running mark, its unclean-stop
   * count: gears-host.ts KeptString): null when the key's slot has left the node, as for `look`.
   */
  lookString(key: string): { readonly type: string; readonly ttlMs: number; readonly value: string | null } | null {
    const type = this.#ask(['TYPE', key]);
    const ttl = this.#ask(['PTTL', key]);
    if (type === null || ttl === null) return null;
    const typeName = type.type === 'simple' ? type.value : 'unknown';
    const value = typeName === 'string' ? this.#ask(['GET', key]) : null;
    return { type: typeName, ttlMs: ttl.type === 'integer' ? Number(ttl.value) : -1, value: value === null || value.type === 'null' ? null : bytes(value).toString('latin1') };
  }

  /**
   * Writes one of those strings where it is (a SET, a PERSIST), not following its slot, as `look` does not: false
   * when the slot has left the node (its key went with it).
   */
  writeString(command: CommandArgument[]): boolean {
    return this.#ask(command) !== null;
  }

  /** PERSIST of one of those strings: whether a TTL was removed (false: none left, or it expired already). */
  persistString(key: string): boolean {
    const reply = this.#ask(['PERSIST', key]);
    return reply?.type === 'integer' && reply.value === 1n;
  }

  loadLibraries(): Map<string, StoredLibrary> {
    const out = new Map<string, StoredLibrary>();
    const keys = this.#resolver.keys();
    if (!keys) return out;
    for (const [field, value] of this.#hash(keys.libraries)) out.set(field.toString('utf8'), JSON.parse(value.toString('utf8')) as StoredLibrary);
    return out;
  }

  loadPositions(): StoredPosition[] {
    const out: StoredPosition[] = [];
    const keys = this.#resolver.keys();
    if (!keys) return out;
    for (const [field, value] of this.#hash(keys.positions)) {
      const first = field.indexOf(0x0a);
      const second = field.indexOf(0x0a, first + 1);
      const third = field.indexOf(0x0a, second + 1);
      if (first < 0 || second < 0 || third < 0) continue;
      out.push({
        library: field.toString('utf8', 0, first),
        trigger: field.toString('utf8', first + 1, second),
        db: Number(field.toString('utf8', second + 1, third)),
        stream: Buffer.from(field.subarray(third + 1)),
        resumeFrom: value.toString('utf8'),
      });
    }
    return out;
  }

  /**
   * Runs a store command on the current keys; null when there are none. When their slot has left the node
   * (resharding), moves to keys under a slot it serves, writes every library there again, and retries.
   */
  #run(command: (keys: StoreKeys) => CommandArgument[], alreadyMoved = false): RespValue | null {
    let keys = alreadyMoved ? this.#relocate() : this.#resolver.keys();
    if (!keys) return null;
    let reply = this.#redis.call(command(keys), STORE_DB);
    // Not while the libraries are written again after a move: a MOVED then (the slot left again) is an error, not
    // another move, whose rewrite would meet it again, and so on until the stack overflowed.
    if (isMoved(reply) && !alreadyMoved && !this.#relocating) {
      keys = this.#relocate();
      if (!keys) return null;
      reply = this.#redis.call(command(keys), STORE_DB);
    }
    return this.#check(reply);
  }

  /** A read of the store's keys that does not follow them: null when their slot has left the node. */
  #ask(command: CommandArgument[]): RespValue | null {
    const reply = this.#redis.call(command, STORE_DB);
    return isMoved(reply) ? null : this.#check(reply);
  }

  #relocate(): StoreKeys | null {
    if (this.#relocating) return null;
    const keys = this.#resolver.relocate();
    if (!keys) return null;
    this.#relocating = true;
    try {
      this.#resave();
    } finally {
      this.#relocating = false;
    }
    return keys;
  }

  /** HGETALL of `key`, read in replies of a few KB (hash-in-pieces.ts: the sync connection is held to the limit). */
  #hash(key: string): [Buffer, Buffer][] {
    return readHashInPieces((commands) => this.#redis.batch(commands, STORE_DB).map((reply) => this.#check(reply)), key);
  }

  #check(reply: RespValue): RespValue {
    if (reply.type === 'error') throw new RedisCommandError(`runtime state in Redis: ${reply.value}`, { context: { key: INTERNAL_KEY_PREFIX } });
    return reply;
  }
}

function savePositionsArgs(keys: StoreKeys, positions: readonly StoredPosition[]): CommandArgument[] {
  return ['HSET', keys.positions, ...positions.flatMap((p) => [positionField(p), p.resumeFrom])];
}

/** A MOVED or ASK reply: the key's slot is not (or no longer) served by this node. */
function isMoved(reply: RespValue): boolean {
  return reply.type === 'error' && /^(MOVED|ASK) /.test(reply.value);
}

/** library \n trigger \n db \n stream-bytes: names cannot hold a newline (verify_name), the stream may be binary. */
function positionField(position: Omit<StoredPosition, 'resumeFrom'>): Buffer {
  return Buffer.concat([Buffer.from(`${position.library}\n${position.trigger}\n${position.db}\n`), position.stream]);
}

function bytes(value: RespValue): Buffer {
  if (value.type === 'blob' || value.type === 'verbatim') return value.value;
  if (value.type === 'simple') return Buffer.from(value.value);
  return Buffer.alloc(0);
}
