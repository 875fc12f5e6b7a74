/**
 * `node dist/bench/cluster-drain.js [keys]` (default 20000): the drain of a backlog through one runtime over one
 * redis-server, then on a 3-primary Redis Cluster (a runtime process per shard), in the same run. Writes one
 * HSET per key with no worker running (on the cluster the backlog is spread over the keys' slot logs), then
 * starts one worker process and times it until every row is in MySQL. What it shows: a backlog spread over
 * thousands of slot logs costs per log (a cut, the worker's reads, `committed`), even with the logs' batches
 * committed together in shared transactions (docs/scale-out.md, what works today).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, createCluster } from 'redis';
import { deployLibrary } from '../src/deploy/deploy.js';
import { writeConfigFile } from './support/bench-config.js';
import { createBenchDatabase, type BenchDatabase } from './support/bench-database.js';
import { sleep } from './support/sleep.js';
import { startCliProcess } from './support/cli-process.js';
import { findFreePort, startRedisServerProcess } from './support/redis-server-process.js';
import { startRuntimeClusterProcesses, startRuntimeProcess } from './support/runtime-cluster-processes.js';
import { CHAOS_PREFIX, CHAOS_TABLE, chaosConfig, resetChaosTables } from './chaos/chaos-schema.js';
import { chaosHashFields } from './chaos/chaos-load.js';
import { clusterBacklog } from './chaos/cluster-view.js';

const N = Number(process.argv[2] ?? 20_000) || 20_000;
const WINDOW = 200;

interface Target {
  readonly url: string;
  /** Records and descriptors left in every capture log. */
  backlog(): Promise<number>;
  /** HSET of one key, through the right client. */
  write(key: string, fields: Record<string, string>): Promise<unknown>;
  close(): Promise<void>;
}

async function single(): Promise<Target> {
  const server = await startRedisServerProcess();
  const port = await findFreePort();
  const runtime = await startRuntimeProcess(server, port);
  const client = createClient({ url: `redis://127.0.0.1:${port}` });
  await client.connect();
  const direct = createClient({ url: server.url });
  await direct.connect();
  return {
    url: `redis://127.0.0.1:${port}`,
    backlog: () => clusterBacklog([direct]),
    write: (key, fields) => client.hSet(key, fields),
    close: async () => {
      await client.close();
      await direct.close();
      await runtime.stop();
      await server.close();
    },
  };
}

async function cluster(): Promise<Target> {
  const processes = await startRuntimeClusterProcesses(3);
  const url = `redis://127.0.0.1:${processes.ports[0]}`;
  const client = createCluster({ rootNodes: [{ url }] });
  await client.connect();
  const servers = await Promise.all(processes.servers.map(async (server) => {
    const direct = createClient({ url: server.url });
    await direct.connect();
    return direct;
  }));
  return {
    url,
    backlog: () => clusterBacklog(servers),
    write: (key, fields) => client.hSet(key, fields),
    close: async () => {
      await client.close();
      for (const direct of servers) await direct.close();
      await processes.close();
    },
  };
}

/** Writes the backlog, then times one worker draining it; returns rows per second of the drain. */
async function drain(target: Target, db: BenchDatabase): Promise<number> {
  await resetChaosTables(db);
  const config = chaosConfig();
  await deployLibrary({ redisUrl: target.url, config });
  for (let i = 0; i < N; i += WINDOW) {
    await Promise.all(Array.from({ length: Math.min(WINDOW, N - i) }, (_, j) => target.write(`${CHAOS_PREFIX}:${i + j + 1}`, chaosHashFields(i + j + 1, 1))));
  }
  const backlog = await target.backlog();
  const file = writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-cluster-drain-')), config);
  const started = Date.now();
  const worker = startCliProcess(['worker', '--redis', target.url, '--mysql', db.url, '--config', file]);
  try {
    while (Number((await db.query<Array<{ n: number }>>(`SELECT COUNT(*) AS n FROM ${CHAOS_TABLE}`))[0]!.n) < N) await sleep(200);
  } finally {
    await worker.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  process.stderr.write(`  ${N} rows (${backlog} stream entries) drained in ${seconds.toFixed(1)} s, worker start included\n`);
  return N / seconds;
}

const db = await createBenchDatabase('cluster_drain');
try {
  const targets: [string, () => Promise<Target>][] = [['one runtime', single], ['3-shard cluster', cluster]];
  const rates: number[] = [];
  for (const [name, start] of targets) {
    const target = await start();
    try {
      rates.push(await drain(target, db));
      process.stdout.write(`${name}: ${rates.at(-1)!.toFixed(0)} rows/s\n`);
    } finally {
      await target.close();
    }
  }
  process.stdout.write(`drain of ${N} keys: cluster / one runtime = ${(rates[1]! / rates[0]!).toFixed(2)}x\n`);
} finally {
  await db.drop();
}
