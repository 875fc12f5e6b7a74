/**
 * The whole write-behind on loopback, for the pipeline scenarios and the chaos campaign: a redis-server of its
 * own, the local runtime in front of it (a child process, so it has its own event loop and can be SIGKILLed),
 * the library deployed into the runtime, and `writebehind worker` processes (the built CLI) started on demand.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type RedisClientType } from 'redis';
import { deployLibrary } from '../../src/deploy/deploy.js';
import type { WriteBehindConfig } from '../../src/shared/config.js';
import { writerKeys } from '../../src/shared/keys.js';
import { BENCH_WRITER, writeConfigFile } from './bench-config.js';
import { startCliProcess, startNodeProcess, type CliProcess } from './cli-process.js';
import { findFreePort, startRedisServerProcess, waitForPing, type RedisServerProcess } from './redis-server-process.js';
import { cliEntry, repoRoot } from './repo-root.js';

export interface PipelineOptions {
  readonly config: WriteBehindConfig;
  /** MySQL URL of the target database. */
  readonly mysqlUrl: string;
  /** redis-server with appendonly (for restarts that must keep the data). */
  readonly appendonly?: boolean;
  /** The runtime fronts redis-server through its Unix socket instead of loopback TCP. */
  readonly unixSocket?: boolean;
  /** RuntimeOptions.settingsCheckMs: 0 for a scenario that switches the notify flags off on purpose. */
  readonly settingsCheckMs?: number;
}

export interface Pipeline {
  readonly redis: RedisServerProcess;
  /** URL of the runtime: where applications, the deploy and the workers connect. */
  readonly runtimeUrl: string;
  readonly configFile: string;
  /**
   * Starts a worker process; `consumer` names it in the `workers` group (keep it across restarts so a restart
   * replays its own pending batches), `claimMinIdleMs` shortens how long a dead worker's batch waits.
   */
  startWorker(options?: { consumer?: string; claimMinIdleMs?: number; groupRecords?: number; configFile?: string; logLevel?: string }): CliProcess;
  /** SIGKILLs the runtime (the redis-server keeps running). */
  killRuntime(): Promise<void>;
  /** Starts the runtime again on the same port (it reloads the library persisted in redis-server). */
  startRuntime(): Promise<void>;
  /**
   * A client of the runtime (not of the redis-server behind it). `failFast`: commands fail at once while the
   * connection is down instead of waiting in node-redis's offline queue (the chaos load wants to know).
   */
  connect(options?: { failFast?: boolean }): Promise<RedisClientType>;
  /** A client of the redis-server itself, for checks that must not go through the runtime. */
  connectDirect(): Promise<RedisClientType>;
  close(): Promise<void>;
}

/** The bench-side runtime entry (dist/bench/support/runtime-entry.js): `Runtime.start` in a process of its own. */
function runtimeEntry(): string {
  return join(repoRoot(), 'dist/bench/support/runtime-entry.js');
}


export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const dir = mkdtempSync(join(tmpdir(), 'wb-bench-'));
  const configFile = writeConfigFile(dir, options.config);
  const socket = join(dir, 'redis.sock');
  const redis = await startRedisServerProcess({ appendonly: options.appendonly === true, extraArgs: options.unixSocket === true ? ['--unixsocket', socket, '--unixsocketperm', '700'] : [] });
  const backing = options.unixSocket === true ? `unix://${socket}` : redis.url;
  const runtimePort = await findFreePort();
  const runtimeUrl = `redis://127.0.0.1:${runtimePort}`;
  const workers = new Set<CliProcess>();
  const clients = new Set<RedisClientType>();
  let runtime: CliProcess | undefined;

  const startRuntime = async () => {
    const settingsCheck = options.settingsCheckMs === undefined ? [] : ['--settings-check-ms', String(options.settingsCheckMs)];
    const started = startNodeProcess(runtimeEntry(), ['--redis', backing, '--port', String(runtimePort), ...settingsCheck]);
    runtime = started;
    try {
      await waitForPing(runtimePort, () => started.isRunning(), 'runtime');
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${started.tail()}`);
    }
  };
  const open = async (url: string, failFast = false) => {
    const client = createClient({ url, disableOfflineQueue: failFast, socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000) } }) as RedisClientType;
    client.on('error', () => {
      // Restarts in the chaos campaign drop connections on purpose; commands fail and are retried by the caller.
    });
    await client.connect();
    clients.add(client);
    return client;
  };

  try {
    await startRuntime();
    await deployLibrary({ redisUrl: runtimeUrl, config: options.config });
  } catch (error) {
    await runtime?.stop();
    await redis.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    redis,
    runtimeUrl,
    configFile,
    startWorker(workerOptions = {}) {
      const args = ['worker', '--redis', runtimeUrl, '--mysql', options.mysqlUrl, '--config', workerOptions.configFile ?? configFile];
      if (workerOptions.consumer !== undefined) args.push('--consumer', workerOptions.consumer);
      if (workerOptions.claimMinIdleMs !== undefined) args.push('--claim-min-idle-ms', String(workerOptions.claimMinIdleMs));
      if (workerOptions.groupRecords !== undefined) args.push('--group-records', String(workerOptions.groupRecords));
      const worker = startCliProcess(args, workerOptions.logLevel === undefined ? {} : { LOG_LEVEL: workerOptions.logLevel });
      workers.add(worker);
      void worker.exited.then(() => workers.delete(worker));
      return worker;
    },
    async killRuntime() {
      runtime?.signal('SIGKILL');
      await runtime?.exited;
    },
    startRuntime,
    connect: (connectOptions = {}) => open(runtimeUrl, connectOptions.failFast === true),
    connectDirect: () => open(redis.url),
    async close() {
      await Promise.all([...workers].map((w) => w.stop()));
      for (const client of clients) client.destroy();
      await runtime?.stop();
      await redis.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The bench writer's stream keys. */
export const benchKeys = writerKeys(BENCH_WRITER);

/** Why the pipeline cannot start from this build (a component not built yet), or null when it can. */
export function pipelineUnavailable(): string | null {
  const required = [
    ['the runtime entry (dist/bench/support/runtime-entry.js)', runtimeEntry()],
    ['the CLI (dist/src/cli/index.js), for `writebehind worker`', cliEntry()],
    ["the runtime's library host (dist/src/runtime/library-host/library-host.js)", join(repoRoot(), 'dist/src/runtime/library-host/library-host.js')],
  ] as const;
  for (const [what, path] of required) {
    if (!existsSync(path)) return `${what} is not built`;
  }
  return null;
}
