/**
 * A local Redis Cluster for benchmarks and the chaos campaign: `primaries` redis-servers, each with a runtime
 * process in front of it whose port the server announces (`cluster-announce-port`), so cluster clients reach
 * every shard through its runtime; with `replicas`, as many more servers, each a primary's replica with its own
 * runtime. `close()` stops whatever was started, even after a failed start.
 */
import { join } from 'node:path';
import { startNodeProcess, type CliProcess } from './cli-process.js';
import { formCluster, nodeId, primaryOfReplicas } from './cluster-slots.js';
import { findFreePorts, startRedisServerProcess, waitForPing, type RedisServerProcess } from './redis-server-process.js';
import { repoRoot } from './repo-root.js';

export interface RuntimeClusterProcesses {
  readonly servers: readonly RedisServerProcess[];
  readonly runtimes: readonly CliProcess[];
  /** The runtimes' ports, as the cluster announces them, in the servers' order. */
  readonly ports: readonly number[];
  /** With `replicas`: the index (in `servers`) of each primary's replica, by the primary's index, as formed. */
  readonly replicaOf: ReadonlyMap<number, number>;
  /**
   * Node `index` back after its redis-server was killed: its runtime stopped, the server started again on its
   * port and directory (its nodes.conf: it rejoins the cluster, a failed-over primary as its replica's
   * replica), and a new runtime on the same port.
   */
  restartNode(index: number): Promise<void>;
  close(): Promise<void>;
}

export interface RuntimeClusterOptions {
  /** One replica per primary, each with its runtime. @defaultValue false */
  readonly replicas?: boolean;
  /** `cluster-node-timeout`: how long a silent primary takes to be failed over. @defaultValue redis-server's 15000 */
  readonly nodeTimeoutMs?: number;
}

/** A runtime process in front of `server`, listening on `port`, once it answers PING. */
export async function startRuntimeProcess(server: RedisServerProcess, port: number): Promise<CliProcess> {
  const runtime = startNodeProcess(join(repoRoot(), 'dist/bench/support/runtime-entry.js'), ['--redis', server.url, '--port', String(port)]);
  await waitForPing(port, () => runtime.isRunning(), 'runtime');
  return runtime;
}

export async function startRuntimeClusterProcesses(primaries = 3, options: RuntimeClusterOptions = {}): Promise<RuntimeClusterProcesses> {
  const servers: RedisServerProcess[] = [];
  const runtimes: CliProcess[] = [];
  const ports: number[] = [];
  const close = async () => {
    for (const runtime of runtimes) await runtime.stop();
    for (const server of servers) await server.close();
  };
  try {
    const timeout = options.nodeTimeoutMs === undefined ? [] : ['--cluster-node-timeout', String(options.nodeTimeoutMs)];
    for (let i = 0; i < primaries * (options.replicas === true ? 2 : 1); i++) {
      // The runtime's port (announced), the bus port (explicit: the default, port + 10000, may fall outside the
      // range of ephemeral ports) and the server's own, all distinct.
      const [port, bus, own] = (await findFreePorts(3)) as [number, number, number];
      const server = await startRedisServerProcess({ port: own, extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(bus), '--cluster-announce-port', String(port), ...timeout] });
      servers.push(server);
      runtimes.push(await startRuntimeProcess(server, port));
      ports.push(port);
    }
    await formCluster(servers.map((server) => server.port), options.replicas === true ? 1 : 0);
    const replicaOf = await pairReplicas(servers);
    const restartNode = async (index: number) => {
      await runtimes[index]!.stop();
      await servers[index]!.start();
      runtimes[index] = await startRuntimeProcess(servers[index]!, ports[index]!);
    };
    return { servers, runtimes, ports, replicaOf, restartNode, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Each replica's index by its primary's index (each server's own CLUSTER NODES line and MYID). */
async function pairReplicas(servers: readonly RedisServerProcess[]): Promise<Map<number, number>> {
  const primaryOf = await primaryOfReplicas(servers.map((server) => server.port));
  const ids = await Promise.all(servers.map((server) => nodeId(server.port)));
  const pairs = new Map<number, number>();
  ids.forEach((id, replica) => {
    const primary = primaryOf.get(id);
    if (primary !== undefined) pairs.set(ids.indexOf(primary), replica);
  });
  return pairs;
}
