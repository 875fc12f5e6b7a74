/**
 * What Redis Stack keeps in its RDB for RedisGears (rdb.rs aux data), kept here in the backing Redis under one
 * internal prefix so a runtime restart resumes: each library's code, config and owner, and each stream
 * consumer's position. Written on load/delete/ack; rewritten after a FLUSHALL (RedisGears keeps libraries
 * across FLUSHALL).
 */
import type { CommandArgument, SyncRedis } from '../sync-redis/sync-redis.js';
import type { RespValue } from '../resp/types.js';
import { RedisCommandError } from '../../shared/errors.js';
import { formatStreamId, parseStreamId, type StreamId } from './stream-id.js';

/** Every key the runtime itself writes starts with this; the server must not fire triggers for them. */
export const INTERNAL_KEY_PREFIX = '__writebehind_runtime__:';
export const LIBRARIES_KEY = `${INTERNAL_KEY_PREFIX}libraries`;
export const STREAM_POSITIONS_KEY = `${INTERNAL_KEY_PREFIX}stream-positions`;
/** The database the internal keys live in. */
export const STORE_DB = 0;

/** The names of the store's two hashes. */
export interface StoreKeys {
  readonly libraries: string;
  readonly positions: string;
}

/**
 * The store's key names, looked up when the store is used: fixed on one Redis; on a cluster node, tagged with a
 * slot the node serves (src/runtime/cluster/cluster-store-keys.ts), or null while it serves none, when nothing
 * can be stored on it (the libraries then live in memory only).
 */
export type StoreKeysResolver = () => StoreKeys | null;

export const standaloneStoreKeys: StoreKeysResolver = () => ({ libraries: LIBRARIES_KEY, positions: STREAM_POSITIONS_KEY });

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
  readonly resumeFrom: StreamId;
}

export class LibraryStore {
  readonly #redis: SyncRedis;
  readonly #keys: StoreKeysResolver;

  constructor(redis: SyncRedis, keys: StoreKeysResolver = standaloneStoreKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  saveLibrary(name: string, library: StoredLibrary): void {
    const keys = this.#keys();
    if (keys) this.#check(this.#redis.call(['HSET', keys.libraries, name, JSON.stringify(library)], STORE_DB));
  }

  deleteLibrary(name: string): void {
    const keys = this.#keys();
    if (!keys) return;
    this.#check(this.#redis.call(['HDEL', keys.libraries, name], STORE_DB));
    const stale = this.loadPositions().filter((p) => p.library === name);
    if (stale.length > 0) this.#check(this.#redis.call(['HDEL', keys.positions, ...stale.map(positionField)], STORE_DB));
  }

  savePositions(positions: readonly StoredPosition[]): void {
    const command = positions.length > 0 ? this.savePositionsCommand(positions) : null;
    if (command) this.checkReply(this.#redis.call(command, STORE_DB));
  }

  /**
   * The one command (to run in STORE_DB) that stores these positions, for a caller that pipelines it with its
   * own calls; its reply goes to `checkReply`. Null when there is nowhere to store them (a cluster node
   * serving no slot).
   */
  savePositionsCommand(positions: readonly StoredPosition[]): CommandArgument[] | null {
    const keys = this.#keys();
    if (!keys) return null;
    return ['HSET', keys.positions, ...positions.flatMap((p) => [positionField(p), formatStreamId(p.resumeFrom)])];
  }

  deletePosition(position: Omit<StoredPosition, 'resumeFrom'>): void {
    const keys = this.#keys();
    if (keys) this.#check(this.#redis.call(['HDEL', keys.positions, positionField(position)], STORE_DB));
  }

  /** Replaces every stored position (after a flush). */
  replacePositions(positions: readonly StoredPosition[]): void {
    const keys = this.#keys();
    if (!keys) return;
    this.#check(this.#redis.call(['DEL', keys.positions], STORE_DB));
    this.savePositions(positions);
  }

  loadLibraries(): Map<string, StoredLibrary> {
    const out = new Map<string, StoredLibrary>();
    const keys = this.#keys();
    if (!keys) return out;
    for (const [field, value] of this.#hash(keys.libraries)) out.set(field.toString('utf8'), JSON.parse(value.toString('utf8')) as StoredLibrary);
    return out;
  }

  loadPositions(): StoredPosition[] {
    const out: StoredPosition[] = [];
    const keys = this.#keys();
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
        resumeFrom: parseStreamId(value.toString('utf8')),
      });
    }
    return out;
  }

  #hash(key: string): [Buffer, Buffer][] {
    const reply = this.#check(this.#redis.call(['HGETALL', key], STORE_DB));
    if (reply.type === 'map') return reply.value.map(([k, v]) => [bytes(k), bytes(v)]);
    if (reply.type === 'array') {
      const pairs: [Buffer, Buffer][] = [];
      for (let i = 0; i + 1 < reply.value.length; i += 2) pairs.push([bytes(reply.value[i]!), bytes(reply.value[i + 1]!)]);
      return pairs;
    }
    return [];
  }

  /** Throws when a write of the store failed. */
  checkReply(reply: RespValue): RespValue {
    return this.#check(reply);
  }

  #check(reply: RespValue): RespValue {
    if (reply.type === 'error') throw new RedisCommandError(`runtime state in Redis: ${reply.value}`, { context: { key: INTERNAL_KEY_PREFIX } });
    return reply;
  }
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
