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
import type { StreamKeys } from '../shared/keys.js';
import type { WriterTarget } from './writer-target.js';

type RawReply = null | number | bigint | Buffer | string | RawReply[];

const BUFFERS = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer, [RESP_TYPES.SIMPLE_STRING]: Buffer } };

/** A hash's mapped fields as they are now: null when the key does not exist, 'not-hash' for another type. */
export type HashImage = ReadonlyMap<string, Buffer | null> | null | 'not-hash';

export interface ImagesAt {
  readonly images: ReadonlyMap<string, HashImage>;
  /**
   * Each capture log of the writer (`target.logs`) with its last record when the images were read; null when
   * it was empty (nothing in flight there).
   */
  readonly lastCaptureIds: ReadonlyArray<readonly [StreamKeys, string | null]>;
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

  /**
   * TFCALL <library>.<fn> with a capture stream and keys: once per capture log the keys belong to (a
   * partitioned writer's keys go to their partitions' streams), the counts summed.
   */
  async recapture(target: WriterTarget, fn: string, keys: readonly string[]): Promise<RecaptureCounts> {
    const byLog = new Map<string, string[]>();
    for (const key of keys) {
      const stream = target.logOfKey(key).changes;
      const group = byLog.get(stream);
      if (group === undefined) byLog.set(stream, [key]);
      else group.push(key);
    }
    const total = { captured: 0, skipped: 0, notHash: 0, deadLettered: 0 };
    for (const [stream, group] of byLog) {
      const counts = JSON.parse(String(await this.#send(['TFCALL', `${target.library}.${fn}`, String(group.length + 1), stream, ...group]))) as RecaptureCounts;
      total.captured += counts.captured;
      total.skipped += counts.skipped;
      total.notHash += counts.notHash;
      total.deadLettered += counts.deadLettered;
    }
    return total;
  }

  /**
   * The mapped fields of each key and each capture log's last id, in one MULTI: every change to these keys
   * made before this instant has a capture record at or before its log's last id.
   */
  async imagesAt(target: WriterTarget, keys: readonly string[]): Promise<ImagesAt> {
    const fields = target.mappings.map(([field]) => field);
    const multi = this.#client.withTypeMapping(BUFFERS.typeMapping).multi();
    for (const key of keys) {
      multi.addCommand(['HMGET', key, ...fields]);
      // HMGET alone cannot tell a missing key from a hash of unmapped fields only.
      multi.addCommand(['EXISTS', key]);
    }
    for (const log of target.logs) multi.addCommand(['XREVRANGE', log.changes, '+', '-', 'COUNT', '1']);
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
    const lastCaptureIds = target.logs.map((log, i) => {
      const lastEntry = (replies[2 * keys.length + i] as RawReply[])[0] as RawReply[] | undefined;
      return [log, lastEntry === undefined ? null : String(lastEntry[0])] as const;
    });
    return { images, lastCaptureIds };
  }

  /** A capture log's commit cursor: the last capture id the worker committed to MySQL (null before the first). */
  async committed(log: StreamKeys): Promise<string | null> {
    const value = await this.#send(['HGET', log.meta, MetaField.committed]);
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
