/**
 * The transport to a Redis Cluster: node-redis' cluster client discovers the topology from one node, sends each
 * command to the shard that serves its key and follows MOVED (rediscovering the topology) and ASK (a slot in
 * migration), so the worker keeps working while slots move and replicas are promoted. Capture reads come back
 * through it too and are turned into the RESP2 frame capture-page.ts parses.
 *
 * @internal
 */
import { createCluster } from '@redis/client';
import { RedisConnectionError, errorMessage } from '../../shared/errors.js';
import { REDIS_CONNECT_TIMEOUT_MS } from '../../shared/redis-connect.js';
import { keySlot } from '../../shared/key-slot.js';
import { redactUrl } from '../../shared/redact-url.js';
import { BUFFERS } from './node-transport.js';
import { rediscoverWhenNodesDrop } from './cluster-rediscovery.js';
import { rawMulti } from './raw-multi.js';
import type { CommandArgs, RawReply, RedisTransport } from './redis-transport.js';

type NodeRedisCluster = ReturnType<typeof createNodeRedisCluster>;

export class ClusterTransport implements RedisTransport {
  readonly #cluster: NodeRedisCluster;

  private constructor(cluster: NodeRedisCluster) {
    this.#cluster = cluster;
  }

  /** Connects through `url`, one node of the cluster (it must answer for the library: a runtime or Redis Stack). */
  static async connect(url: string, onError?: (error: Error) => void): Promise<ClusterTransport> {
    const cluster = createNodeRedisCluster(url);
    cluster.on('error', onError ?? (() => undefined));
    // A failed-over primary's slots are found on its replica (cluster-rediscovery.ts).
    rediscoverWhenNodesDrop(cluster);
    try {
      await cluster.connect();
    } catch (cause) {
      throw new RedisConnectionError(`cannot connect to the Redis Cluster at ${redactUrl(url)}: ${errorMessage(cause)}`, { cause, context: { url: redactUrl(url) } });
    }
    return new ClusterTransport(cluster);
  }

  async send(args: CommandArgs, key: string | undefined): Promise<RawReply> {
    return (await this.#cluster.sendCommand(key, false, args as Array<string | Buffer>, BUFFERS)) as RawReply;
  }

  async frame(args: CommandArgs, key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    encodeReply(await this.send(args, key), chunks);
    return Buffer.concat(chunks);
  }

  async pipeline(commands: ReadonlyArray<CommandArgs>): Promise<void> {
    // The cluster client pipelines the commands it has for one node by itself.
    await Promise.all(commands.map((args) => this.send(args, String(args[1]))));
  }

  /** The primaries as the topology last seen names them (`host:port`). */
  primaries(): string[] {
    return this.#cluster.masters.map((node) => node.address);
  }

  /** The primary (`host:port`) serving `key`'s slot as the topology last seen says, if known. */
  nodeOf(key: string): string | undefined {
    return this.#cluster.slots[keySlot(key)]?.master.address;
  }

  /** Each primary's node id and the lowest slot it serves, as the topology last seen says. */
  primaryLowestSlots(): Array<{ readonly id: string; readonly slot: number }> {
    const lowest = new Map<string, number>();
    this.#cluster.slots.forEach((shard, slot) => {
      const id = shard?.master.id;
      if (id !== undefined && !lowest.has(id)) lowest.set(id, slot);
    });
    return [...lowest].map(([id, slot]) => ({ id, slot }));
  }

  /** One command to one primary (`host:port` from primaries()), for keyless calls that each node answers for itself. */
  async sendToNode(address: string, args: CommandArgs): Promise<RawReply> {
    const node = this.#cluster.masters.find((master) => master.address === address);
    if (node === undefined) throw new RedisConnectionError(`${address} is no longer a primary of the cluster`, { context: { url: address } });
    const client = await this.#cluster.nodeClient(node);
    return (await client.sendCommand(args as Array<string | Buffer>, BUFFERS)) as RawReply;
  }

  /**
   * Commands in one MULTI on the shard of `key` (every key they name must be in its slot): each reply in order
   * (bulk strings as Buffers: raw-multi.ts), or the Error of a command that failed inside the transaction (the
   * others still ran).
   */
  async transaction(key: string, commands: ReadonlyArray<CommandArgs>): Promise<Array<RawReply | Error>> {
    const node = this.#cluster.slots[keySlot(key)]?.master;
    if (node === undefined) throw new RedisConnectionError(`no primary serves the slot of ${key} in the topology last seen`, { context: { key } });
    return rawMulti(await this.#cluster.nodeClient(node), commands);
  }

  /**
   * Brings the topology up to date for `key`'s slot after a transaction() met MOVED (it follows no redirect): a
   * routed command for the key meets the same MOVED, and node-redis follows it by looking the topology up again,
   * which the next transaction() uses.
   */
  async refreshSlotOf(key: string): Promise<void> {
    await this.send(['TYPE', key], key);
  }

  isReady(): boolean {
    return this.#cluster.isOpen;
  }

  async close(): Promise<void> {
    if (this.#cluster.isOpen) await this.#cluster.close();
  }

  destroy(): void {
    if (this.#cluster.isOpen) this.#cluster.destroy();
  }
}

function createNodeRedisCluster(url: string) {
  return createCluster({
    rootNodes: [{ url }],
    // Nodes are named as the cluster announces them; credentials and TLS as the URL gives them.
    defaults: { ...credentialsOf(url), socket: { connectTimeout: REDIS_CONNECT_TIMEOUT_MS, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2_000) } },
  });
}

function credentialsOf(url: string): { username?: string; password?: string } {
  const parsed = new URL(url);
  return {
    ...(parsed.username === '' ? {} : { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password === '' ? {} : { password: decodeURIComponent(parsed.password) }),
  };
}

/** A decoded RESP2 reply back into its frame (arrays, bulk strings, integers, nil). */
function encodeReply(reply: RawReply, out: Buffer[]): void {
  if (reply === null) out.push(Buffer.from('$-1\r\n'));
  else if (Array.isArray(reply)) {
    out.push(Buffer.from(`*${reply.length}\r\n`));
    for (const item of reply) encodeReply(item, out);
  } else if (typeof reply === 'number' || typeof reply === 'bigint') out.push(Buffer.from(`:${reply}\r\n`));
  else {
    const bytes = Buffer.isBuffer(reply) ? reply : Buffer.from(reply);
    out.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
}
