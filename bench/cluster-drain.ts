/**
 * `node dist/bench/cluster-drain.js [keys]` (default 20000): the drain of a backlog through one runtime over one
 * redis-server, then on a 3-primary Redis Cluster (a runtime process per shard), in the same run. Writes one
 * HSET per key with no worker running (on the cluster the backlog is spread over the keys' slot logs), then
 * starts one worker process and times it until every row is in MySQL. What it shows: a backlog spread over
 * thousands of slot logs costs per log (a cut, the worker's reads, `committed`), even with the logs' batches
 * committed together in shared transactions (docs/scale-out.md, what works today).
 *
 * A write whose capture failed inside Redis (a callback killed by lock-redis-timeout on a loaded machine: no
 * record, only the trigger's `num_failed`) has no row to drain: the drain waits for the records captured, says
 * how many writes were not, and a drain that stops short (no new row for STALL_MS) names each missing key with
 * its slot log's state (bench/chaos/missing-rows.ts) instead of waiting forever.
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
import { CHAOS_PREFIX, CHAOS_TABLE, CHAOS_WRITER, chaosConfig, resetChaosTables } from './chaos/chaos-schema.js';
import { chaosHashFields } from './chaos/chaos-load.js';
import { clusterBacklog } from './chaos/cluster-view.js';
import { capturedRecords, describeMissingRows, missingIds } from './chaos/missing-rows.js';
import { readCaptureFailures } from '../src/worker/capture-failures.js';
import { PROBE_COMMAND, callsBetween, commandCalls, cpuSeconds, probeLatency } from './support/shard-probe.js';

/** Capture logs (streams `wb:changes:*`) on the servers. */
async function captureLogs(servers: readonly RedisClient[]): Promise<number> {
  let logs = 0;
  for (const server of servers) {
    for await (const keys of server.scanIterator({ MATCH: 'wb:changes:*', COUNT: 1000 })) logs += keys.length;
  }
  return logs;
}

const N = Number(process.argv[2] ?? 20_000) || 20_000;
const WINDOW = 200;
/** A drain with no new row for this long has stopped short. */
const STALL_MS = 60_000;

type RedisClient = ReturnType<typeof createClient>;

interface Target {
  readonly url: string;
  /** Records and descriptors left in every capture log. */
  backlog(): Promise<number>;
  /** Records in the capture logs of every shard (before the drain: the writes captured). */
  captured(): Promise<number>;
  /** Capture callbacks that failed inside Redis, summed over the shards (RedisGears `num_failed`). */
  captureFailures(library: string): Promise<number>;
  /** HSET of one key, through the right client. */
  write(key: string, fields: Record<string, string>): Promise<unknown>;
  /** What is known of the keys whose rows are missing, for the message of a drain that stopped short. */
  describeMissing(db: BenchDatabase, ids: readonly number[]): Promise<unknown>;
  /** Clients of the redis-servers (commandstats, log counts) and of the runtimes in front of them (the probe). */
  readonly servers: readonly RedisClient[];
  readonly runtimes: readonly RedisClient[];
  /** The runtime processes (their CPU time). */
  readonly runtimePids: readonly number[];
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
    captured: () => capturedRecords([direct]),
    captureFailures: (library) => captureFailuresOn([client], library),
    write: (key, fields) => client.hSet(key, fields),
    describeMissing: async (_db, ids) => ids.map((id) => `${CHAOS_PREFIX}:${id}`),
    servers: [direct],
    runtimes: [client],
    runtimePids: [runtime.pid],
    close: async () => {
      await client.close();
      await direct.close();
      await runtime.stop();
      await server.close();
    },
  };
}

/** num_failed of the writer's keyspace trigger, summed over the runtimes (each counts its own shard's captures). */
async function captureFailuresOn(runtimes: ReadonlyArray<ReturnType<typeof createClient>>, library: string): Promise<number> {
  let failed = 0;
  for (const runtime of runtimes) {
    const [failures] = await readCaptureFailures((name) => runtime.sendCommand(['TFUNCTION', 'LIST', 'LIBRARY', name, 'v']), library, [CHAOS_WRITER]);
    failed += failures!.failed;
  }
  return failed;
}

async function cluster(): Promise<Target> {
  const processes = await startRuntimeClusterProcesses(3);
  const url = `redis://127.0.0.1:${processes.ports[0]}`;
  const runtimes = await Promise.all(processes.ports.map(async (port) => {
    const runtime = createClient({ url: `redis://127.0.0.1:${port}` });
    await runtime.connect();
    return runtime;
  }));
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
    captured: () => capturedRecords(servers),
    captureFailures: (library) => captureFailuresOn(runtimes, library),
    write: (key, fields) => client.hSet(key, fields),
    describeMissing: (db, ids) => describeMissingRows(client, db, ids, N),
    servers,
    runtimes,
    runtimePids: processes.runtimes.map((runtime) => runtime.pid),
    close: async () => {
      await client.close();
      for (const runtime of runtimes) await runtime.close();
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
  const captured = await target.captured();
  if (captured !== N) {
    const failed = await target.captureFailures(config.name);
    process.stderr.write(`  ${N - captured} of ${N} writes not captured (${failed} capture callbacks failed inside Redis, e.g. killed by lock-redis-timeout): the drain waits for ${captured} rows\n`);
  }
  const logs = await captureLogs(target.servers);
  const file = writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-cluster-drain-')), config);
  const callsBefore = await commandCalls(target.servers);
  const probe = probeLatency(target.runtimes);
  const runtimeCpuBefore = target.runtimePids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const started = Date.now();
  let firstRowAt: number | undefined;
  const worker = startCliProcess(['worker', '--redis', target.url, '--mysql', db.url, '--config', file]);
  let workerCpu = 0;
  try {
    let rows = 0;
    let progressAt = Date.now();
    for (;;) {
      const now = Number((await db.query<Array<{ n: number }>>(`SELECT COUNT(*) AS n FROM ${CHAOS_TABLE}`))[0]!.n);
      if (now > 0) firstRowAt ??= Date.now();
      if (now >= captured) break;
      if (now > rows) [rows, progressAt] = [now, Date.now()];
      if (Date.now() - progressAt > STALL_MS) {
        const missing = await target.describeMissing(db, await missingIds(db, N));
        throw new Error(`the drain stopped at ${now} of ${captured} captured rows; missing: ${JSON.stringify(missing)}; worker log: ${worker.tail()}`);
      }
      await sleep(200);
    }
    workerCpu = cpuSeconds(worker.pid);
  } finally {
    await worker.stop();
  }
  const finishedAt = Date.now();
  const seconds = (finishedAt - started) / 1000;
  const runtimeCpu = target.runtimePids.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - runtimeCpuBefore;
  const { longestMs: longestWait, sent: probes } = await probe.stop();
  const calls = callsBetween(callsBefore, await commandCalls(target.servers))
    .map(([name, n]) => [name, name === PROBE_COMMAND ? n - probes : n] as [string, number]).filter(([, n]) => n > 0);
  const total = calls.reduce((sum, [, n]) => sum + n, 0);
  const afterFirstRow = (finishedAt - firstRowAt!) / 1000;
  process.stderr.write(`  ${captured} rows (${backlog} stream entries, ${logs} capture logs) drained in ${seconds.toFixed(1)} s, worker start included; first row after ${((firstRowAt! - started) / 1000).toFixed(1)} s (${(captured / afterFirstRow).toFixed(0)} rows/s from there); longest wait of a probe command on a runtime ${longestWait.toFixed(0)} ms\n`);
  process.stderr.write(`  CPU during the drain: runtimes ${runtimeCpu.toFixed(1)} s (${(runtimeCpu / seconds).toFixed(2)} cores), worker ${workerCpu.toFixed(1)} s\n`);
  process.stderr.write(`  redis-server commands: ${total} (${(total / logs).toFixed(1)} per capture log): ${calls.map(([name, n]) => `${name} ${(n / logs).toFixed(2)}`).join(', ')}\n`);
  return captured / seconds;
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
