/**
 * The whole pipeline for end-to-end tests: a redis-server of the test's own, the runtime in front of it, the
 * library deployed with the example config, a MariaDB database with the example tables, and workers either
 * in-process (startWorker) or as `writebehind worker` child processes (spawnWorker) that a test can SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deployLibrary } from '../../src/deploy/deploy.js';
import { parseConfig, type WriteBehindConfig } from '../../src/shared/config.js';
import { createLogger, silentLogger } from '../../src/shared/log.js';
import { startWorkerService, type WorkerService } from '../../src/worker/worker-service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';
import { pipeToTarget } from '../helpers/tcp-pipe.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startRuntime, type StartedRuntime, type StartRuntimeOptions } from '../helpers/runtime.js';
import { connectTestClient, type TestClient } from '../helpers/redis-client.js';
import { SEED_CONFIG } from '../scenarios/seed-scenarios.js';
import { until } from '../helpers/until.js';
export { until };

export type { TestClient };

export const CLI_ENTRY = fileURLToPath(new URL('../../dist/src/cli/index.js', import.meta.url));

export function exampleConfig(overrides: Record<string, unknown> = {}): WriteBehindConfig {
  const result = parseConfig({ ...SEED_CONFIG, ...overrides });
  if (!result.ok) throw new Error(result.message);
  return result.config;
}

export interface Pipeline {
  readonly server: RedisServer;
  readonly runtime: StartedRuntime;
  readonly db: TestDatabase;
  readonly config: WriteBehindConfig;
  readonly configFile: string;
  /** Connected to the runtime, as applications connect. */
  readonly client: TestClient;
  newClient(): Promise<TestClient>;
  /** Connected to the redis-server itself, behind the runtime: for checks and faults the runtime must not see. */
  newDirectClient(): Promise<TestClient>;
  startWorker(consumer?: string, mysqlUrl?: string): Promise<WorkerService>;
  spawnWorker(consumer: string, extraArgs?: string[], mysqlUrl?: string): ChildProcess;
  close(): Promise<void>;
}

/** `redisPort`: the redis-server's port (a free one by default). */
export async function startPipeline(label: string, config: WriteBehindConfig = exampleConfig(), runtimeOptions: StartRuntimeOptions = {}, redisPort?: number): Promise<Pipeline> {
  const server = await startRedisServer(redisPort === undefined ? {} : { port: redisPort });
  const runtime = await startRuntime(server, runtimeOptions);
  await deployLibrary({ redisUrl: runtime.url, config });
  const db = await createTestDatabase(label);
  await db.query('CREATE TABLE persons (person_id VARCHAR(64) PRIMARY KEY, first VARCHAR(20), last VARCHAR(255), age INT, applied INT NOT NULL DEFAULT 0)');
  await db.query('CREATE TABLE cars (car_id VARCHAR(64) PRIMARY KEY, id VARCHAR(255), color VARCHAR(255))');
  // `applied` counts how often a row was written: a second application of the same change would show.
  await db.query('CREATE TRIGGER persons_ins BEFORE INSERT ON persons FOR EACH ROW SET NEW.applied = 1');
  await db.query('CREATE TRIGGER persons_upd BEFORE UPDATE ON persons FOR EACH ROW SET NEW.applied = OLD.applied + 1');
  const dir = mkdtempSync(join(tmpdir(), 'wb-pipeline-'));
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config));
  const clients: TestClient[] = [];
  const services: WorkerService[] = [];
  const children: ChildProcess[] = [];
  const newClient = () => connectTestClient(runtime.url, clients);
  const client = await newClient();
  const log = process.env['WB_TEST_LOG'] ? createLogger({ level: process.env['WB_TEST_LOG'], name: 'worker' }) : silentLogger;
  return {
    server, runtime, db, config, configFile, client, newClient,
    newDirectClient: () => connectTestClient(server.url, clients),
    async startWorker(consumer = 'inproc', mysqlUrl = db.url) {
      const service = await startWorkerService({ redisUrl: runtime.url, mysqlUrl, config, consumer, log });
      services.push(service);
      return service;
    },
    spawnWorker(consumer, extraArgs = [], mysqlUrl = db.url) {
      const child = spawn(process.execPath, [CLI_ENTRY, 'worker', '--redis', runtime.url, '--mysql', mysqlUrl, '--config', configFile, '--consumer', consumer, ...extraArgs], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LOG_LEVEL: process.env['WB_TEST_LOG'] ?? 'warn' },
      });
      if (process.env['WB_TEST_LOG']) {
        child.stdout?.pipe(process.stdout);
        child.stderr?.pipe(process.stderr);
      }
      children.push(child);
      return child;
    },
    async close() {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      for (const service of services) await service.close();
      for (const c of clients) await c.close().catch(() => undefined);
      await runtime.close();
      await server.stop();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}


export function exited(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode!);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
}

/** A TCP proxy in front of MariaDB whose link the test can cut (every connection dropped, new ones refused) and restore. */
export interface CuttableProxy {
  readonly port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startMysqlProxy(target = { host: '127.0.0.1', port: 3306 }): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((inbound) => pipeToTarget(inbound, target, sockets));
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        const address = s.address();
        if (typeof address === 'object' && address !== null) port = address.port;
        server = s;
        resolve();
      });
    });
  await listen();
  const stop = async () => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  return {
    get port() { return port; },
    cut: stop,
    restore: listen,
    close: stop,
  };
}

/** Waits until every captured change of a writer is committed; on timeout, the error says where the pipeline stands. */
export async function waitDrained(direct: TestClient, keys: { changes: string; batches: string; meta: string }, timeoutMs = 15_000): Promise<void> {
  try {
    await until(() => direct.xLen(keys.changes), (n) => n === 0, timeoutMs);
  } catch (error) {
    const state = {
      meta: await direct.hGetAll(keys.meta),
      backlog: await direct.xLen(keys.changes),
      batches: await direct.sendCommand(['XRANGE', keys.batches, '-', '+', 'COUNT', '5']),
      pending: await direct.sendCommand(['XPENDING', keys.batches, 'workers', '-', '+', '5']).catch((e: unknown) => String(e)),
      firstRecords: await direct.sendCommand(['XRANGE', keys.changes, '-', '+', 'COUNT', '2']),
    };
    throw new Error(`${(error as Error).message}; pipeline state ${JSON.stringify(state)}`);
  }
}
