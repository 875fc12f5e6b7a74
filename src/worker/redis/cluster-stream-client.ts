/**
 * The StreamClient of a worker on a Redis Cluster: every command goes to the shard of its key (MOVED/ASK are
 * followed), plus what finding work among a writer's per-slot logs needs (docs/scale-out.md, how the worker
 * finds work): the library's `ready` index asked of each primary, and the lengths of many logs at once (the
 * sweep).
 */
import { RedisCommandError, errorMessage } from '../../shared/errors.js';
import { connectRedis } from '../../shared/redis-connect.js';
import { LibraryFunction } from '../../shared/protocol.js';
import { ClusterTransport } from './cluster-transport.js';
import { nodeCallError } from './node-call-error.js';
import { RedisStreamClient, asText } from './redis-stream-client.js';
import type { LibraryListing } from '../capture-failures.js';
import type { ClusterClient, ReadyChunk } from './stream-client.js';

export class ClusterStreamClient extends RedisStreamClient implements ClusterClient {
  readonly #cluster: ClusterTransport;

  private constructor(cluster: ClusterTransport) {
    super(cluster);
    this.#cluster = cluster;
  }

  /** Connects to the cluster `url` is a node of (the runtime in front of it, or Redis Stack). */
  static async connectCluster(url: string, options: { onError?: (error: Error) => void } = {}): Promise<ClusterStreamClient> {
    return new ClusterStreamClient(await ClusterTransport.connect(url, options.onError));
  }

  /** The primaries (`host:port`) as the topology last seen names them. */
  primaries(): string[] {
    return this.#cluster.primaries();
  }

  /**
   * `ready` on one primary: a chunk of that node's logs of `writer` with batches to commit, after cutting at most
   * `limit` of its due ones; `more` when the node has more to cut or list (ask again).
   */
  async ready(node: string, library: string, writer: string, maxDelayMs: number, limit: number): Promise<ReadyChunk> {
    const fn = `${library}.${LibraryFunction.ready}`;
    let reply: unknown;
    try {
      reply = await this.#cluster.sendToNode(node, ['TFCALL', fn, '0', writer, String(maxDelayMs), String(limit)]);
    } catch (cause) {
      throw nodeCallError(fn, node, cause);
    }
    if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) {
      throw new RedisCommandError(`TFCALL ${fn} on ${node} replied ${JSON.stringify(String(reply))}, not [more, [streams]] (a library older than this worker? deploy it again)`, { context: { command: `TFCALL ${fn}` } });
    }
    return { more: Number(reply[0]) === 1, streams: (reply[1] as unknown[]).map(String) };
  }

  /** `adopt` on one primary: takes `streams` (its logs of `writer`) into its ready index; those with batches to commit. */
  async adopt(node: string, library: string, writer: string, maxDelayMs: number, streams: readonly string[]): Promise<string[]> {
    const fn = `${library}.${LibraryFunction.adopt}`;
    try {
      const reply = await this.#cluster.sendToNode(node, ['TFCALL', fn, '0', writer, String(maxDelayMs), ...streams]);
      return Array.isArray(reply) ? reply.map(String) : [];
    } catch (cause) {
      throw nodeCallError(fn, node, cause);
    }
  }

  /** Each primary counts the failed captures of its own keys: its own `TFUNCTION LIST`. */
  override libraryListings(): LibraryListing[] {
    return this.primaries().map((node) => async (library: string) => {
      try {
        return asText(await this.#cluster.sendToNode(node, ['TFUNCTION', 'LIST', 'LIBRARY', library, 'v']));
      } catch (cause) {
        throw new RedisCommandError(`TFUNCTION LIST on ${node} failed: ${errorMessage(cause)}`, { cause, context: { command: 'TFUNCTION LIST' } });
      }
    });
  }

  nodeOf(key: string): string | undefined {
    return this.#cluster.nodeOf(key);
  }

  /** Each primary's node id and the lowest slot it serves, as the topology last seen says. */
  primaryLowestSlots(): Array<{ readonly id: string; readonly slot: number }> {
    return this.#cluster.primaryLowestSlots();
  }

  async callOnNode(node: string, library: string, fn: string, args: readonly string[]): Promise<(string | null)[]> {
    const name = `${library}.${fn}`;
    let reply: unknown;
    try {
      reply = await this.#cluster.sendToNode(node, ['TFCALL', name, '0', ...args]);
    } catch (cause) {
      throw nodeCallError(name, node, cause);
    }
    if (!Array.isArray(reply)) throw new RedisCommandError(`TFCALL ${name} on ${node} replied ${JSON.stringify(String(reply))}, not an array`, { context: { command: `TFCALL ${name}` } });
    return reply.map((item) => (item === null ? null : String(item)));
  }

  /** Who serves which slots, as one node's `CLUSTER SLOTS` says (`<from>-<to>@<host:port>` ranges): to compare. */
  async slotOwners(): Promise<string> {
    const reply = (await this.send(['CLUSTER', 'SLOTS'], undefined)) as [number, number, [Buffer, number]][];
    return reply.map(([from, to, [host, port]]) => `${from}-${to}@${String(host)}:${port}`).sort().join(',');
  }

  /** The streams on one primary whose names match `pattern` (SCAN … TYPE stream, 1000 keys a step). */
  async scanStreams(node: string, pattern: string): Promise<string[]> {
    return this.scanKeys(node, pattern, 'stream');
  }

  /** The keys of `type` on one primary whose names match `pattern` (SCAN … TYPE, 1000 keys a step). */
  async scanKeys(node: string, pattern: string, type: string): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const reply = (await this.#cluster.sendToNode(node, ['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000', 'TYPE', type])) as [Buffer, Buffer[]];
      cursor = String(reply[0]);
      for (const key of reply[1]) found.push(String(key));
    } while (cursor !== '0');
    return found;
  }

  /** GET of each key, each on its shard, in order (null for a missing one). */
  async strings(keys: readonly string[]): Promise<(string | null)[]> {
    return Promise.all(keys.map(async (key) => {
      const value = await this.send(['GET', key]);
      return value === null || value === undefined ? null : String(value);
    }));
  }

  /** XLEN of each stream, in order (0 for a missing one), each on its shard, pipelined per node. */
  async lengths(streams: readonly string[]): Promise<number[]> {
    return Promise.all(streams.map(async (stream) => Number(await this.send(['XLEN', stream]))));
  }
}

/** Whether the Redis at `url` is a node of a Redis Cluster (`INFO cluster` says `cluster_enabled:1`). */
export async function isRedisCluster(url: string, signal?: AbortSignal): Promise<boolean> {
  const client = await connectRedis(url, signal === undefined ? {} : { signal });
  try {
    return /cluster_enabled:1/.test(String(await client.sendCommand(['INFO', 'cluster'])));
  } finally {
    await client.close();
  }
}
