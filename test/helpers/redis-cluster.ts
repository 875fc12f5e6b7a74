/**
 * A real Redis Cluster on loopback with one runtime in front of each primary, as docs/scale-out.md describes:
 * each redis-server announces its runtime's port (`cluster-announce-port`), so CLUSTER SLOTS and MOVED name the
 * runtimes. The runtimes start before `redis-cli --cluster create`, which connects to the announced addresses
 * while it waits for the cluster to agree. `close()` stops everything that was started, even after a failed start.
 */
import { announcedOwnerOf, formCluster, moveSlot as moveSlotBetween } from '../../bench/support/cluster-slots.js';
import { findFreePort } from '../../bench/support/redis-server-process.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { startRedisServer, type RedisServer } from './redis-server.js';

export interface ClusterShard {
  /** The redis-server (its own port; clients never use it). */
  readonly server: RedisServer;
  /** The shard's runtime (a new one after `restartRuntime`). */
  runtime: Runtime;
  /** redis://127.0.0.1:<runtime port>, what the cluster announces for this shard. */
  readonly url: string;
}

export interface RuntimeCluster {
  readonly shards: readonly ClusterShard[];
  /** Closes shard `index`'s runtime and starts a new one on the same port, as a process restart would. */
  restartRuntime(index: number): Promise<void>;
  /** The shard (index) whose primary serves `slot` now. */
  ownerOf(slot: number): Promise<number>;
  /**
   * Moves `slot` to shard `to` as docs/scale-out.md asks for a slot holding a capture log: IMPORTING and
   * MIGRATING, every key of the slot in one MIGRATE, then SETSLOT NODE on the target and the source.
   */
  moveSlot(slot: number, to: number): Promise<void>;
  close(): Promise<void>;
}

export async function startRuntimeCluster(primaries = 3): Promise<RuntimeCluster> {
  const servers: RedisServer[] = [];
  const runtimes: Runtime[] = [];
  const close = async () => {
    for (const runtime of runtimes) await runtime.close().catch(() => undefined);
    for (const server of servers) await server.stop().catch(() => undefined);
  };
  try {
    const shards: ClusterShard[] = [];
    for (let i = 0; i < primaries; i++) {
      const runtimePort = await findFreePort();
      // An explicit bus port: the default (port + 10000) may fall outside the port range for ephemeral ports.
      const busPort = await findFreePort();
      const server = await startRedisServer({
        extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(busPort),
          '--cluster-announce-port', String(runtimePort), '--cluster-node-timeout', '2000'],
      });
      servers.push(server);
      const runtime = await Runtime.start({ redisUrl: server.url, port: runtimePort });
      runtimes.push(runtime);
      shards.push({ server, runtime, url: runtime.url });
    }
    await formCluster(servers.map((server) => server.port));
    const restartRuntime = async (index: number) => {
      const shard = shards[index]!;
      await shard.runtime.close();
      shard.runtime = await Runtime.start({ redisUrl: shard.server.url, port: shard.runtime.port });
      runtimes[index] = shard.runtime;
    };
    const ownerOf = async (slot: number) => {
      const port = await announcedOwnerOf(servers[0]!.port, slot);
      return shards.findIndex((shard) => shard.runtime.port === port);
    };
    const moveSlot = async (slot: number, to: number) => moveSlotBetween(slot, servers[await ownerOf(slot)]!.port, servers[to]!.port);
    return { shards, restartRuntime, ownerOf, moveSlot, close };
  } catch (error) {
    await close();
    throw error;
  }
}
