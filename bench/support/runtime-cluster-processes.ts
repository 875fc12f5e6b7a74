/**
 * A local Redis Cluster for benchmarks and the chaos campaign: `primaries` redis-servers, each with a runtime
 * process in front of it whose port the server announces (`cluster-announce-port`), so cluster clients reach
 * every shard through its runtime. `close()` stops whatever was started, even after a failed start.
 */
import { join } from 'node:path';
import { startNodeProcess, type CliProcess } from './cli-process.js';
import { formCluster } from './cluster-slots.js';
import { findFreePort, startRedisServerProcess, waitForPing, type RedisServerProcess } from './redis-server-process.js';
import { repoRoot } from './repo-root.js';

export interface RuntimeClusterProcesses {
  readonly servers: readonly RedisServerProcess[];
  readonly runtimes: readonly CliProcess[];
  /** The runtimes' ports, as the cluster announces them, in the servers' order. */
  readonly ports: readonly number[];
  close(): Promise<void>;
}

/** A runtime process in front of `server`, listening on `port`, once it answers PING. */
export async function startRuntimeProcess(server: RedisServerProcess, port: number): Promise<CliProcess> {
  const runtime = startNodeProcess(join(repoRoot(), 'dist/bench/support/runtime-entry.js'), ['--redis', server.url, '--port', String(port)]);
  await waitForPing(port, () => runtime.isRunning(), 'runtime');
  return runtime;
}

export async function startRuntimeClusterProcesses(primaries = 3): Promise<RuntimeClusterProcesses> {
  const servers: RedisServerProcess[] = [];
  const runtimes: CliProcess[] = [];
  const ports: number[] = [];
  const close = async () => {
    for (const runtime of runtimes) await runtime.stop();
    for (const server of servers) await server.close();
  };
  try {
    for (let i = 0; i < primaries; i++) {
      const port = await findFreePort();
      // An explicit bus port: the default (port + 10000) may fall outside the port range for ephemeral ports.
      const bus = await findFreePort();
      const server = await startRedisServerProcess({ extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(bus), '--cluster-announce-port', String(port)] });
      servers.push(server);
      runtimes.push(await startRuntimeProcess(server, port));
      ports.push(port);
    }
    await formCluster(servers.map((server) => server.port));
    return { servers, runtimes, ports, close };
  } catch (error) {
    await close();
    throw error;
  }
}
