/**
 * StreamClient over node-redis v5. Commands go out raw (`sendCommand`) with bulk strings mapped to Buffers,
 * so binary field values survive and the same code talks to Redis Stack and to the local runtime alike, on one
 * Redis or, through a cluster transport, on a Redis Cluster (each command to its key's shard).
 * Every failure becomes a RedisCommandError naming the command and key.
 */
import { RedisCommandError, errorMessage } from '../../shared/errors.js';
import { connectRedis } from '../../shared/redis-connect.js';
import type { LibraryListing } from '../capture-failures.js';
import type { StreamEntry } from './stream-entry.js';
import { parseCapturePage, type CapturePage } from './capture-page.js';
import { NodeTransport } from './node-transport.js';
import type { CommandArgs, RawReply, RedisTransport } from './redis-transport.js';
import type { AckMessage, StreamClient, StreamFields } from './stream-client.js';

export class RedisStreamClient implements StreamClient {
  readonly #transport: RedisTransport;

  protected constructor(transport: RedisTransport) {
    this.#transport = transport;
  }

  /**
   * Connects to `url` (see connectRedis: a deadline on the handshake, an error naming the redacted URL and the
   * cause). A long-running client (`reconnect`, the default) reconnects with a capped backoff on its own, and
   * commands sent meanwhile wait for the reconnection, until close() or destroy(); a short-lived one (status,
   * dlq) fails instead of waiting for a server that may not come back.
   * `onError` receives connection errors (node-redis emits them as events; unhandled they would crash).
   */
  static async connect(url: string, options: { onError?: (error: Error) => void; reconnect?: boolean } = {}): Promise<RedisStreamClient> {
    const client = await connectRedis(url, {
      reconnect: options.reconnect ?? true,
      ...(options.onError === undefined ? {} : { onError: options.onError }),
      suggestion: 'check --redis / REDIS_URL: the runtime (writebehind runtime) or Redis Stack must run there, and the password must be right',
    });
    return new RedisStreamClient(new NodeTransport(client, url));
  }

  /** False while the connection is down (commands wait for it to come back). */
  isReady(): boolean {
    return this.#transport.isReady();
  }

  /** Sends `args` to the node of `key` (by default the command's first argument, which is its key). */
  protected async send(args: CommandArgs, key: string | undefined = args[1] === undefined ? undefined : String(args[1])): Promise<RawReply> {
    try {
      return await this.#transport.send(args, key);
    } catch (cause) {
      const command = args.slice(0, args[0] === 'TFCALL' ? 2 : 1).map(String).join(' ');
      throw new RedisCommandError(`${command} failed: ${errorMessage(cause)}`, { cause, context: { command, key } });
    }
  }

  async ensureGroup(stream: string, group: string): Promise<void> {
    try {
      await this.send(['XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM'], stream);
    } catch (error) {
      if (!errorMessage(error).includes('BUSYGROUP')) throw error;
    }
  }

  async readGroup(stream: string, group: string, consumer: string, cursor: '0' | '>', count: number, blockMs?: number): Promise<StreamEntry[]> {
    const block = blockMs === undefined ? [] : ['BLOCK', String(blockMs)];
    const reply = await this.send(['XREADGROUP', 'GROUP', group, consumer, 'COUNT', String(count), ...block, 'STREAMS', stream, cursor], stream);
    if (reply === null) return [];
    // RESP2: [[stream, entries]]; RESP3 would be a map, which node-redis gives as a flat array here too.
    const streams = reply as RawReply[];
    const first = streams[0] as RawReply[] | undefined;
    return first === undefined ? [] : toEntries(first[1] ?? []);
  }

  async claimIdle(stream: string, group: string, consumer: string, minIdleMs: number, count: number): Promise<StreamEntry[]> {
    const reply = (await this.send(['XAUTOCLAIM', stream, group, consumer, String(minIdleMs), '0-0', 'COUNT', String(count)])) as RawReply[];
    return toEntries(reply[1] ?? []);
  }

  async pendingOf(stream: string, group: string, consumer: string, count: number, start = '-', end = '+'): Promise<string[]> {
    const reply = (await this.send(['XPENDING', stream, group, start, end, String(count), consumer])) as RawReply[];
    return reply.map((row) => String((row as RawReply[])[0]));
  }

  async pendingCount(stream: string, group: string): Promise<number> {
    try {
      const reply = (await this.send(['XPENDING', stream, group])) as RawReply[];
      return Number(reply[0] ?? 0);
    } catch (error) {
      if (/NOGROUP|no such key/i.test(errorMessage(error))) return 0;
      throw error;
    }
  }

  async touch(stream: string, group: string, consumer: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.send(['XCLAIM', stream, group, consumer, '0', ...ids, 'JUSTID']);
  }

  /**
   * The hot path: the reply is parsed from its bytes straight into records (node-redis would first decode it
   * into generic values, several times the cost of the read itself).
   */
  async rangeRecords(stream: string, after: string, through: string, count: number): Promise<CapturePage> {
    const args = ['XRANGE', stream, `(${after}`, through, 'COUNT', String(count)];
    let frame: Buffer;
    try {
      frame = await this.#transport.frame(args, stream);
    } catch (cause) {
      throw new RedisCommandError(`XRANGE failed: ${errorMessage(cause)}`, { cause, context: { command: 'XRANGE', key: stream } });
    }
    return parseCapturePage(frame);
  }

  async range(stream: string, count: number, reverse = false): Promise<StreamEntry[]> {
    return toEntries(await this.send(reverse ? ['XREVRANGE', stream, '+', '-', 'COUNT', String(count)] : ['XRANGE', stream, '-', '+', 'COUNT', String(count)]));
  }

  async length(stream: string): Promise<number> {
    return Number(await this.send(['XLEN', stream]));
  }

  async append(stream: string, fields: StreamFields, maxLen?: number): Promise<string> {
    const cap = maxLen === undefined ? [] : ['MAXLEN', '~', String(maxLen)];
    return String(await this.send(['XADD', stream, ...cap, '*', ...fields.flat()]));
  }

  async deleteEntries(stream: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return Number(await this.send(['XDEL', stream, ...ids]));
  }

  async deleteKey(key: string): Promise<void> {
    await this.send(['DEL', key]);
  }

  async hashGetAll(key: string): Promise<Record<string, string>> {
    const reply = (await this.send(['HGETALL', key])) as RawReply[];
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
    return out;
  }

  async hashSet(key: string, fields: Record<string, string>): Promise<void> {
    await this.send(['HSET', key, ...Object.entries(fields).flat()]);
  }

  async hashIncrement(key: string, field: string, by: number): Promise<void> {
    await this.send(['HINCRBY', key, field, String(by)]);
  }

  async waitForReplicas(key: string, field: string, replicas: number, timeoutMs: number): Promise<{ readonly acknowledged: number; readonly node: string }> {
    // Sent together: the cluster client keeps one connection per node, and both go to the node of `key`.
    const [, acknowledged] = await Promise.all([this.send(['HINCRBY', key, field, '1']), this.send(['WAIT', String(replicas), String(timeoutMs)], key)]);
    return { acknowledged: Number(acknowledged), node: this.#transport.nodeOf(key) ?? `the shard of ${key}` };
  }

  async acknowledge(acks: readonly AckMessage[], ttlSeconds: number): Promise<void> {
    if (acks.length === 0) return;
    try {
      await this.#transport.pipeline(acks.flatMap((ack) => [['XADD', ack.stream, '*', ...ack.fields.flat()], ['EXPIRE', ack.stream, String(ttlSeconds)]]));
    } catch (cause) {
      throw new RedisCommandError(`writing ${acks.length} acknowledgement(s) failed: ${errorMessage(cause)}`, { cause, context: { command: 'XADD', key: acks[0]?.stream } });
    }
  }

  async exists(keys: readonly string[]): Promise<boolean[]> {
    const out: boolean[] = [];
    for (const key of keys) out.push(Number(await this.send(['EXISTS', key])) === 1);
    return out;
  }

  async callFunction(library: string, fn: string, keys: readonly string[], args: readonly string[]): Promise<string | null> {
    const reply = await this.send(['TFCALL', `${library}.${fn}`, String(keys.length), ...keys, ...args], keys[0]);
    return reply === null ? null : String(reply);
  }

  /** TFUNCTION LIST LIBRARY <library> v: the library's triggers with their statistics (capture-failures.ts reads it). */
  async listLibrary(library: string): Promise<unknown> {
    return asText(await this.#transport.send(['TFUNCTION', 'LIST', 'LIBRARY', library, 'v'], undefined));
  }

  /** The listing of each node that runs the library's triggers: this one Redis (a cluster has one per primary). */
  libraryListings(): LibraryListing[] {
    return [(library) => this.listLibrary(library)];
  }

  /** Waits for the replies still due, then closes; while the connection is down, closes at once (see destroy). */
  close(): Promise<void> {
    return this.#transport.close();
  }

  /** Closes at once: every command waiting for the connection or for its reply fails. */
  destroy(): void {
    this.#transport.destroy();
  }
}

/** [[id, [field, value, ...]], ...] → entries; entries deleted while pending come back with null fields. */
function toEntries(reply: RawReply): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  const entries: StreamEntry[] = [];
  for (const raw of reply) {
    const [id, flat] = raw as [Buffer, RawReply[] | null];
    const fields: Array<[string, Buffer]> = [];
    for (let i = 0; flat !== null && i + 1 < flat.length; i += 2) fields.push([String(flat[i]), asBuffer(flat[i + 1]!)]);
    entries.push({ id: String(id), fields });
  }
  return entries;
}

/** A reply with its bulk strings as text, as node-redis gives it by default. */
export function asText(reply: RawReply): unknown {
  if (Buffer.isBuffer(reply)) return reply.toString('utf8');
  return Array.isArray(reply) ? reply.map(asText) : reply;
}

function asBuffer(value: RawReply): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(String(value));
}
