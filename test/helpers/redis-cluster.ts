/**
 * A real Redis Cluster on loopback with one runtime in front of each primary, as docs/scale-out.md describes:
 * each redis-server announces its runtime's port (`cluster-announce-port`), so CLUSTER SLOTS and MOVED name the
 * runtimes. The runtimes start before `redis-cli --cluster create`, which connects to the announced addresses
 * while it waits for the cluster to agree. `close()` stops everything that was started, even after a failed start.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findFreePort } from '../../bench/support/redis-server-process.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { startRedisServer, type RedisServer } from './redis-server.js';
import { until } from './until.js';

const run = promisify(execFile);

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
    await run('redis-cli', ['--cluster', 'create', ...servers.map((s) => `127.0.0.1:${s.port}`), '--cluster-yes'], { timeout: 30_000 });
    for (const server of servers) {
      await until(() => clusterState(server.port), (state) => state === 'ok', 15_000, 50);
    }
    const restartRuntime = async (index: number) => {
      const shard = shards[index]!;
      await shard.runtime.close();
      shard.runtime = await Runtime.start({ redisUrl: shard.server.url, port: shard.runtime.port });
      runtimes[index] = shard.runtime;
    };
    const ownerOf = async (slot: number) => {
      const slots = JSON.parse((await run('redis-cli', ['-p', String(servers[0]!.port), '--json', 'CLUSTER', 'SLOTS'])).stdout) as [number, number, [string, number]][];
      const port = Number(slots.find(([from, last]) => slot >= from && slot <= last)![2][1]);
      return shards.findIndex((shard) => shard.runtime.port === port);
    };
    const moveSlot = async (slot: number, to: number) => {
      const source = servers[await ownerOf(slot)]!;
      const target = servers[to]!;
      const cli = async (server: RedisServer, ...args: string[]) => (await run('redis-cli', ['-p', String(server.port), ...args])).stdout.trim();
      const sourceId = await cli(source, 'CLUSTER', 'MYID');
      const targetId = await cli(target, 'CLUSTER', 'MYID');
      if (sourceId === targetId) return;
      await cli(target, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', sourceId);
      await cli(source, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', targetId);
      const keys = (await cli(source, 'CLUSTER', 'GETKEYSINSLOT', String(slot), '100000')).split('\n').filter((key) => key !== '');
      if (keys.length > 0) {
        const reply = await cli(source, 'MIGRATE', '127.0.0.1', String(target.port), '', '0', '10000', 'KEYS', ...keys);
        if (reply !== 'OK') throw new Error(`MIGRATE of slot ${slot} replied ${reply}`);
      }
      await cli(target, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', targetId);
      await cli(source, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', targetId);
    };
    return { shards, restartRuntime, ownerOf, moveSlot, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function clusterState(port: number): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(port), 'CLUSTER', 'INFO']);
  return /cluster_state:(\w+)/.exec(stdout)?.[1] ?? 'unknown';
}
