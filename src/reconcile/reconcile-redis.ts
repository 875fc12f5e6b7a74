/**
 * The Redis side of backfill and verify, over node-redis: SCAN pages of a writer's hashes, the library's
 * re-capture functions (TFCALL), images of hashes read together with the capture stream's last id in one
 * MULTI, the writer's commit cursor, and the small state hashes `wb:backfill:{w}` / `wb:verify:{w}`.
 * Values come back as Buffers, so binary fields compare byte for byte. Every failure names the command.
 */
import { MultiErrorReply, RESP_TYPES } from 'redis';
import { RedisCommandError, errorMessage } from '../shared/errors.js';
import { MetaField, type RecaptureCounts } from '../shared/protocol.js';
import { connectRedis, type NodeRedisClient } from '../shared/redis-connect.js';
import type { WriterTarget } from './writer-target.js';

type RawReply = null | number | bigint | Buffer | string | RawReply[];

const BUFFERS = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer, [RESP_TYPES.SIMPLE_STRING]: Buffer } };

/** A hash's mapped fields as they are now: null when the key does not exist, 'not-hash' for another type. */
export type HashImage = ReadonlyMap<string, Buffer | null> | null | 'not-hash';

export interface ImagesAt {
  readonly images: ReadonlyMap<string, HashImage>;
  /** The capture stream's last record when the images were read; null when it was empty (nothing in flight). */
  readonly lastCaptureId: string | null;
}

export class ReconcileRedis {
  readonly #client: NodeRedisClient;

  private constructor(client: NodeRedisClient) {
    this.#client = client;
  }

  static async connect(url: string): Promise<ReconcileRedis> {
    return new ReconcileRedis(await connectRedis(url, { suggestion: 'check --redis / REDIS_URL: the runtime (writebehind runtime) or Redis Stack running the library' }));
  }

  async #send(args: string[]): Promise<RawReply> {
    try {
      return (await this.#client.sendCommand(args, BUFFERS)) as RawReply;
    } catch (cause) {
      const command = args.slice(0, args[0] === 'TFCALL' ? 2 : 1).join(' ');
      throw new RedisCommandError(`${command} failed: ${errorMessage(cause)}`, { cause, context: { command, key: args[1] } });
    }
  }

  /** One SCAN step over the hashes matching `pattern`: the next cursor ('0' when done) and the keys. */
  async scan(cursor: string, pattern: string, count: number): Promise<{ cursor: string; keys: string[] }> {
    const [next, keys] = (await this.#send(['SCAN', cursor, 'MATCH', pattern, 'COUNT', String(count), 'TYPE', 'hash'])) as [Buffer, Buffer[]];
    return { cursor: String(next), keys: keys.map(String) };
  }

  /** TFCALL <library>.<fn> with the writer's capture stream and `keys`. */
  async recapture(target: WriterTarget, fn: string, keys: readonly string[]): Promise<RecaptureCounts> {
    const reply = await this.#send(['TFCALL', `${target.library}.${fn}`, String(keys.length + 1), target.keys.changes, ...keys]);
    return JSON.parse(String(reply)) as RecaptureCounts;
  }

  /**
   * The mapped fields of each key and the capture stream's last id, in one MULTI: every change to these keys
   * made before this instant has a capture record at or before `lastCaptureId`.
   */
  async imagesAt(target: WriterTarget, keys: readonly string[]): Promise<ImagesAt> {
    const fields = target.mappings.map(([field]) => field);
    const multi = this.#client.withTypeMapping(BUFFERS.typeMapping).multi();
    for (const key of keys) {
      multi.addCommand(['HMGET', key, ...fields]);
      // HMGET alone cannot tell a missing key from a hash of unmapped fields only.
      multi.addCommand(['EXISTS', key]);
    }
    multi.addCommand(['XREVRANGE', target.keys.changes, '+', '-', 'COUNT', '1']);
    let replies: RawReply[];
    try {
      replies = (await multi.exec()) as unknown as RawReply[];
    } catch (cause) {
      // A key of another type fails its HMGET only; the others stand.
      if (!(cause instanceof MultiErrorReply)) throw new RedisCommandError(`MULTI (HMGET of ${keys.length} keys) failed: ${errorMessage(cause)}`, { cause, context: { command: 'MULTI' } });
      replies = cause.replies as unknown as RawReply[];
      for (const index of cause.errorIndexes) replies[index] = 'not-hash';
    }
    const images = new Map<string, HashImage>();
    keys.forEach((key, i) => {
      const values = replies[2 * i];
      if (values === 'not-hash') images.set(key, 'not-hash');
      else if (Number(replies[2 * i + 1]) === 0) images.set(key, null);
      else images.set(key, new Map(fields.map((field, f) => [field, ((values as RawReply[])[f] as Buffer | null) ?? null])));
    });
    const last = replies[replies.length - 1] as RawReply[];
    const lastEntry = last[0] as RawReply[] | undefined;
    return { images, lastCaptureId: lastEntry === undefined ? null : String(lastEntry[0]) };
  }

  /** The writer's commit cursor: the last capture id the worker committed to MySQL (null before the first). */
  async committed(target: WriterTarget): Promise<string | null> {
    const value = await this.#send(['HGET', target.keys.meta, MetaField.committed]);
    return value === null ? null : String(value);
  }

  /** TYPE of each key ('none' when it does not exist). */
  async types(keys: readonly string[]): Promise<string[]> {
    const multi = this.#client.multi();
    for (const key of keys) multi.addCommand(['TYPE', key]);
    return ((await multi.execAsPipeline()) as unknown[]).map(String);
  }

  async readState(key: string): Promise<Record<string, string>> {
    const reply = (await this.#send(['HGETALL', key])) as Buffer[];
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
    return out;
  }

  /** Replaces the state hash with `fields`. */
  async writeState(key: string, fields: Record<string, string>): Promise<void> {
    const multi = this.#client.multi();
    multi.addCommand(['DEL', key]);
    multi.addCommand(['HSET', key, ...Object.entries(fields).flat()]);
    try {
      await multi.exec();
    } catch (cause) {
      throw new RedisCommandError(`writing ${key} failed: ${errorMessage(cause)}`, { cause, context: { command: 'HSET', key } });
    }
  }

  async close(): Promise<void> {
    if (this.#client.isOpen) await this.#client.close();
  }
}
