/**
 * The operator's connections to a Redis Cluster for moving and re-capturing slots: one plain connection per
 * node, at the address the cluster announces (a runtime's, when runtimes front the nodes), opened with the
 * entry URL's credentials. Plain connections, not a cluster client: a slot move sends each step to one chosen
 * node, and a redirect must surface as an error, never be followed.
 */
import { ConfigError, RedisCommandError, errorMessage } from '../shared/errors.js';
import { connectRedis, type NodeRedisClient } from '../shared/redis-connect.js';
import { parseClusterNodes, type ClusterNodeEntry } from '../shared/cluster-nodes.js';

export type AdminReply = null | number | string | AdminReply[];

export class ClusterAdmin {
  readonly #url: string;
  readonly #clients = new Map<string, NodeRedisClient>();
  readonly #entry: NodeRedisClient;

  private constructor(url: string, entry: NodeRedisClient) {
    this.#url = url;
    this.#entry = entry;
  }

  /** Connects to the node at `url`; a ConfigError naming `option` when it is no cluster node. */
  static async connect(url: string, option = '--redis'): Promise<ClusterAdmin> {
    const entry = await connectRedis(url, { suggestion: `check ${option}: a node of the Redis Cluster (its runtime, or Redis Stack)` });
    const admin = new ClusterAdmin(url, entry);
    try {
      if (!/cluster_enabled:1/.test(String(await entry.sendCommand(['INFO', 'cluster'])))) {
        throw new ConfigError(`${option}: the Redis there is not a Redis Cluster node (INFO cluster says cluster_enabled:0)`, {
          context: { suggestion: 'on one Redis nothing migrates; to capture existing hashes again use writebehind backfill' },
        });
      }
      return admin;
    } catch (error) {
      await admin.close();
      throw error;
    }
  }

  /** The cluster as the entry node sees it now. */
  async topology(): Promise<ClusterNodeEntry[]> {
    return parseClusterNodes(String(await this.#entry.sendCommand(['CLUSTER', 'NODES'])));
  }

  /** The node's own view (its `myself` line carries its migrating/importing slots). */
  async selfOf(address: string): Promise<ClusterNodeEntry> {
    const myself = parseClusterNodes(String(await this.send(address, ['CLUSTER', 'NODES']))).find((node) => node.myself);
    if (myself === undefined) throw new RedisCommandError(`CLUSTER NODES on ${address} has no myself line`, { context: { command: 'CLUSTER NODES' } });
    return myself;
  }

  /** One command on the node at `address` (`host:port`); a failure names the command and the node. */
  async send(address: string, args: string[]): Promise<AdminReply> {
    const client = await this.#client(address);
    try {
      return (await client.sendCommand(args)) as AdminReply;
    } catch (cause) {
      const command = args.slice(0, args[0] === 'CLUSTER' || args[0] === 'TFCALL' ? 2 : 1).join(' ');
      throw new RedisCommandError(`${command} on ${address} failed: ${errorMessage(cause)}`, { cause, context: { command, node: address } });
    }
  }

  /** The entry URL's credentials (for MIGRATE … AUTH2), undefined without a password. */
  credentials(): { username: string; password: string } | undefined {
    const url = new URL(this.#url);
    if (url.password === '') return undefined;
    return { username: decodeURIComponent(url.username) || 'default', password: decodeURIComponent(url.password) };
  }

  async #client(address: string): Promise<NodeRedisClient> {
    let client = this.#clients.get(address);
    if (client === undefined) {
      const url = new URL(this.#url);
      const colon = address.lastIndexOf(':');
      url.hostname = address.slice(0, colon);
      url.port = address.slice(colon + 1);
      client = await connectRedis(url.toString(), { suggestion: `the cluster announces ${address} for a node: it must be reachable from here` });
      this.#clients.set(address, client);
    }
    return client;
  }

  async close(): Promise<void> {
    for (const client of [this.#entry, ...this.#clients.values()]) if (client.isOpen) await client.close().catch(() => undefined);
  }
}
