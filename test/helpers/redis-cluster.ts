/**
 * A real Redis Cluster on loopback with one runtime in front of each primary (and, when asked, of each
 * primary's replica), as docs/scale-out.md describes: each redis-server announces its runtime's port
 * (`cluster-announce-port`), so CLUSTER SLOTS and MOVED name the runtimes. The runtimes start before
 * `redis-cli --cluster create`, which connects to the announced addresses while it waits for the cluster to
 * agree. `close()` stops everything that was started, even after a failed start.
 */
import { announcedOwnerOf, formCluster, moveSlot as moveSlotBetween, nodeId, primaryOfReplicas } from '../../bench/support/cluster-slots.js';
import { findFreePorts } from '../../bench/support/redis-server-process.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { startRedisServer, type RedisServer } from './redis-server.js';

export interface ClusterNode {
  /** The redis-server (its own port; clients never use it). */
  readonly server: RedisServer;
  /** The node's runtime (a new one after `restartRuntime`). */
  runtime: Runtime;
  /** redis://127.0.0.1:<runtime port>, what the cluster announces for this node. */
  readonly url: string;
}

export interface ClusterShard extends ClusterNode {
  /** The primary's replica, with `replicas: true`. Named as the cluster was formed: a failover swaps the roles. */
  readonly replica?: ClusterNode;
}

export interface RuntimeClusterOptions {
  /** One replica per primary, each with its runtime. @defaultValue false */
  readonly replicas?: boolean;
  /** `cluster-node-timeout`: how long a silent primary takes to be failed over. @defaultValue 2000 */
  readonly nodeTimeoutMs?: number;
  /** More redis-server arguments for every node, e.g. `['--enable-debug-command', 'yes']`. */
  readonly serverArgs?: readonly string[];
  /** An append-only file per node, so a redis-server restarted after a SIGKILL keeps its data. @defaultValue false */
  readonly appendonly?: boolean;
  /** RuntimeOptions.settingsCheckMs of every runtime: 0 where a test switches the notify flags off on purpose. */
  readonly settingsCheckMs?: number;
}

export interface RuntimeCluster {
  readonly shards: readonly ClusterShard[];
  /**
   * Closes shard `index`'s runtime and starts a new one on the same port, as a process restart would;
   * `between` runs while none runs (e.g. to leave what a killed runtime leaves).
   */
  restartRuntime(index: number, between?: () => Promise<void>): Promise<void>;
  /** The shard (index) whose primary serves `slot` now. */
  ownerOf(slot: number): Promise<number>;
  /**
   * Moves `slot` to shard `to` as docs/scale-out.md asks for a slot holding a capture log: IMPORTING and
   * MIGRATING, every key of the slot in one MIGRATE, then SETSLOT NODE on the target and the source; returns the
   * keys deleted in the move's window, whose deletes were not captured (bench/support/cluster-slots.ts).
   */
  moveSlot(slot: number, to: number): Promise<{ vanished: string[] }>;
  close(): Promise<void>;
}

export async function startRuntimeCluster(primaries = 3, options: RuntimeClusterOptions = {}): Promise<RuntimeCluster> {
  const settingsCheck = options.settingsCheckMs === undefined ? {} : { settingsCheckMs: options.settingsCheckMs };
  const servers: RedisServer[] = [];
  const runtimes: Runtime[] = [];
  const close = async () => {
    for (const runtime of runtimes) await runtime.close().catch(() => undefined);
    for (const server of servers) await server.stop().catch(() => undefined);
  };
  try {
    const nodes: ClusterNode[] = [];
    for (let i = 0; i < primaries * (options.replicas === true ? 2 : 1); i++) {
      // The runtime's port (announced), the bus port (explicit: the default, port + 10000, may fall outside the
      // range of ephemeral ports) and the server's own, all distinct.
      const [runtimePort, busPort, serverPort] = (await findFreePorts(3)) as [number, number, number];
      const server = await startRedisServer({
        port: serverPort,
        appendonly: options.appendonly ?? false,
        extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(busPort),
          '--cluster-announce-port', String(runtimePort), '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 2000), ...(options.serverArgs ?? [])],
      });
      servers.push(server);
      const runtime = await Runtime.start({ redisUrl: server.url, port: runtimePort, ...settingsCheck });
      runtimes.push(runtime);
      nodes.push({ server, runtime, url: runtime.url });
    }
    await formCluster(servers.map((server) => server.port), options.replicas === true ? 1 : 0);
    const shards = await pairReplicas(nodes);
    const restartRuntime = async (index: number, between?: () => Promise<void>) => {
      const shard = shards[index]!;
      await shard.runtime.close();
      await between?.();
      const at = runtimes.indexOf(shard.runtime);
      shard.runtime = await Runtime.start({ redisUrl: shard.server.url, port: shard.runtime.port, ...settingsCheck });
      runtimes[at] = shard.runtime;
    };
    const ownerOf = async (slot: number) => {
      const port = await announcedOwnerOf(servers[0]!.port, slot);
      return shards.findIndex((shard) => shard.runtime.port === port);
    };
    const moveSlot = async (slot: number, to: number) => moveSlotBetween(slot, shards[await ownerOf(slot)]!.server.port, shards[to]!.server.port);
    return { shards, restartRuntime, ownerOf, moveSlot, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The shards (primaries, in start order) with the replica redis-cli gave each (from CLUSTER NODES). */
async function pairReplicas(nodes: readonly ClusterNode[]): Promise<ClusterShard[]> {
  const primaryOf = await primaryOfReplicas(nodes.map((node) => node.server.port));
  const ids = await Promise.all(nodes.map((node) => nodeId(node.server.port)));
  const primaries = nodes.filter((_, i) => !primaryOf.has(ids[i]!));
  return primaries.map((primary) => {
    const id = ids[nodes.indexOf(primary)];
    const replica = nodes.find((_, i) => primaryOf.get(ids[i]!) === id);
    return replica === undefined ? primary : { ...primary, replica };
  });
}
