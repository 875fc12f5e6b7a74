/**
 * ReconcileRedis on one Redis, over node-redis: SCAN, the library's re-capture functions, images read together
 * with the capture logs' last ids in one MULTI. Values come back as Buffers (the MULTI too: raw-multi.ts), so
 * binary fields compare byte for byte. Every failure names the command.
 */
import { RESP_TYPES } from '@redis/client';
import { RedisCommandError, errorMessage } from '../shared/errors.js';
import { LibraryFunction, MetaField, zeroCounts, type RecaptureCounts } from '../shared/protocol.js';
import { connectRedis, type NodeRedisClient } from '../shared/redis-connect.js';
import type { StreamKeys } from '../shared/keys.js';
import { rawMulti } from '../worker/redis/raw-multi.js';
import type { CommandArgs } from '../worker/redis/redis-transport.js';
import { recaptureCountsOf } from './recapture-counts.js';
import { addCounts, addRecords, imageOf, lastIdOf, type HashImage, type ImagesAt, type RawReply, type ReconcileRedis } from './reconcile-redis.js';
import type { WriterTarget } from './writer-target.js';

const BUFFERS = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer, [RESP_TYPES.SIMPLE_STRING]: Buffer } };

export class SingleReconcileRedis implements ReconcileRedis {
  readonly #client: NodeRedisClient;

  private constructor(client: NodeRedisClient) {
    this.#client = client;
  }

  static async connect(url: string): Promise<SingleReconcileRedis> {
    return new SingleReconcileRedis(await connectRedis(url, { suggestion: 'check --redis / REDIS_URL: the runtime (writebehind runtime) or Redis Stack running the library' }));
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
    const total = zeroCounts();
    for (const [log, group] of byLog(target, keys)) {
      addCounts(total, recaptureCountsOf(await this.#send(['TFCALL', `${target.library}.${fn}`, String(group.length + 1), log.changes, ...group])));
    }
    return total;
  }

  async forgetDivergent(target: WriterTarget, keys: readonly string[]): Promise<number> {
    let removed = 0;
    for (const [log, group] of byLog(target, keys)) {
      removed += Number(await this.#send(['TFCALL', `${target.library}.${LibraryFunction.forgetDivergent}`, String(group.length + 1), log.changes, ...group]));
    }
    return removed;
  }

  /**
   * The mapped fields of each key and each capture log's last id, in one MULTI: every change to these keys
   * made before this instant has a capture record at or before its log's last id.
   */
  async imagesAt(target: WriterTarget, keys: readonly string[]): Promise<ImagesAt> {
    const fields = target.mappings.map(([field]) => field);
    // HMGET alone cannot tell a missing key from a hash of unmapped fields only: EXISTS with each.
    const commands: CommandArgs[] = keys.flatMap((key) => [['HMGET', key, ...fields], ['EXISTS', key]]);
    for (const log of target.logs) commands.push(['XREVRANGE', log.changes, '+', '-', 'COUNT', '1']);
    const recordGroups = [...byLog(target, keys)];
    for (const [log, group] of recordGroups) commands.push(['HMGET', log.divergent, ...group]);
    let replies: Array<RawReply | Error>;
    try {
      // Not node-redis' multi(): it hands EXEC's replies back as text, and binary values would lose their bytes.
      replies = await rawMulti(this.#client, commands);
    } catch (cause) {
      throw new RedisCommandError(`MULTI (HMGET of ${keys.length} keys) failed: ${errorMessage(cause)}`, { cause, context: { command: 'MULTI' } });
    }
    const images = new Map<string, HashImage>();
    // A key of another type fails its HMGET only; the others stand.
    keys.forEach((key, i) => {
      const values = replies[2 * i];
      images.set(key, imageOf(fields, values instanceof Error ? 'not-hash' : values!, replies[2 * i + 1] as RawReply));
    });
    const lastCaptureIds = target.logs.map((log, i) => [log, lastIdOf(replyOf(replies[2 * keys.length + i], 'XREVRANGE', log.changes))] as const);
    const records = new Map<string, string>();
    const recordsAt = 2 * keys.length + target.logs.length;
    recordGroups.forEach(([log, group], i) => addRecords(records, group, replyOf(replies[recordsAt + i], 'HMGET', log.divergent)));
    return { images, lastCaptureIds, records };
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

/** The keys grouped by the capture log a re-capture of each goes to (its partition's, when partitioned). */
function byLog(target: WriterTarget, keys: readonly string[]): Map<StreamKeys, string[]> {
  const groups = new Map<string, [StreamKeys, string[]]>();
  for (const key of keys) {
    const log = target.logOfKey(key);
    const group = groups.get(log.changes);
    if (group === undefined) groups.set(log.changes, [log, [key]]);
    else group[1].push(key);
  }
  return new Map([...groups.values()]);
}

/** The reply of a command of the MULTI that must not fail (a stream or a hash of the writer's own). */
function replyOf(reply: RawReply | Error | undefined, command: string, key: string): RawReply {
  if (reply instanceof Error) throw new RedisCommandError(`${command} ${key} failed: ${reply.message}`, { cause: reply, context: { command, key } });
  return reply!;
}
