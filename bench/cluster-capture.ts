/**
 * `node dist/bench/cluster-capture.js [--seconds 10]`: captured HSETs/s through the local runtime, one runtime
 * over one redis-server against a 3-primary Redis Cluster with one runtime per shard (each in a process of its
 * own, the cluster announcing the runtimes). The library's keyspace trigger does a capture's work (HMGET of the
 * hash, XADD of a record into a stream in the hash's slot), so every write is captured on its own shard. Every
 * process shares this machine's cores: the figure says whether shards add capture throughput here, not on a
 * machine with a core per shard.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient, createCluster } from 'redis';
import { startNodeProcess, type CliProcess } from './support/cli-process.js';
import { findFreePort, startRedisServerProcess, waitForPing, type RedisServerProcess } from './support/redis-server-process.js';
import { repoRoot } from './support/repo-root.js';

const CAPTURE_LIBRARY = `#!js api_version=1.0 name=benchcapture
redis.registerKeySpaceTrigger('capture', 'bc:', (client, data) => {
  const key = data.key;
  const values = client.call('hmget', key, 'a', 'b');
  client.call('xadd', '{' + key + '}:c', '*', 'key', key, 'a', String(values[0]), 'b', String(values[1]));
});`;

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1] ?? 10) || 10;
const WINDOW = 64;
const run = promisify(execFile);

interface Target {
  readonly servers: RedisServerProcess[];
  readonly runtimes: CliProcess[];
}

async function startRuntimeProcess(server: RedisServerProcess, port: number): Promise<CliProcess> {
  const runtime = startNodeProcess(join(repoRoot(), 'dist/bench/support/runtime-entry.js'), ['--redis', server.url, '--port', String(port)]);
  await waitForPing(port, () => runtime.isRunning(), 'runtime');
  return runtime;
}

async function stop(target: Target): Promise<void> {
  for (const runtime of target.runtimes) await runtime.stop();
  for (const server of target.servers) await server.close();
}

/** Issues `write(i)` for `seconds`, WINDOW at a time; returns writes per second. */
async function load(write: (i: number) => Promise<unknown>): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let next = 0;
  let done = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: WINDOW }, async () => {
    while (performance.now() < deadline) {
      await write(next++);
      done++;
    }
  }));
  return done / ((performance.now() - started) / 1000);
}

/** num_failed of the capture trigger on the runtime at `port`: every write must have been captured. */
async function failedCaptures(port: number): Promise<number> {
  const client = createClient({ url: `redis://127.0.0.1:${port}` });
  await client.connect();
  const text = JSON.stringify(await client.sendCommand(['TFUNCTION', 'LIST', 'vv']));
  await client.close();
  return Number(/"num_failed",(\d+)/.exec(text)?.[1] ?? NaN);
}

async function single(): Promise<number> {
  const server = await startRedisServerProcess();
  const port = await findFreePort();
  const target: Target = { servers: [server], runtimes: [await startRuntimeProcess(server, port)] };
  try {
    const client = createClient({ url: `redis://127.0.0.1:${port}` });
    await client.connect();
    await client.sendCommand(['TFUNCTION', 'LOAD', CAPTURE_LIBRARY]);
    const rate = await load((i) => client.hSet(`bc:${i}`, { a: String(i), b: 'x' }));
    await client.close();
    const failed = await failedCaptures(port);
    if (failed !== 0) throw new Error(`${failed} captures failed on the single runtime`);
    return rate;
  } finally {
    await stop(target);
  }
}

async function cluster(): Promise<number> {
  const target: Target = { servers: [], runtimes: [] };
  try {
    const ports: number[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await findFreePort();
      const bus = await findFreePort();
      ports.push(port);
      target.servers.push(await startRedisServerProcess({ extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(bus), '--cluster-announce-port', String(port)] }));
      target.runtimes.push(await startRuntimeProcess(target.servers[i]!, port));
    }
    await run('redis-cli', ['--cluster', 'create', ...target.servers.map((s) => `127.0.0.1:${s.port}`), '--cluster-yes'], { timeout: 30_000 });
    for (const server of target.servers) {
      for (let ok = false; !ok; await new Promise((r) => setTimeout(r, 100))) ok = (await run('redis-cli', ['-p', String(server.port), 'CLUSTER', 'INFO'])).stdout.includes('cluster_state:ok');
    }
    const client = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${ports[0]}` }] });
    await client.connect();
    const loader = createClient({ url: `redis://127.0.0.1:${ports[0]}` });
    await loader.connect();
    await loader.sendCommand(['TFUNCTION', 'LOAD', CAPTURE_LIBRARY]);
    await loader.close();
    const rate = await load((i) => client.hSet(`bc:${i}`, { a: String(i), b: 'x' }));
    await client.close();
    for (const port of ports) {
      const failed = await failedCaptures(port);
      if (failed !== 0) throw new Error(`${failed} captures failed on the runtime at ${port}`);
    }
    return rate;
  } finally {
    await stop(target);
  }
}

const one = await single();
const three = await cluster();
process.stdout.write(`captured HSET/s over ${seconds} s, window ${WINDOW}: one runtime ${one.toFixed(0)}, 3-shard cluster with 3 runtimes ${three.toFixed(0)} (${(three / one).toFixed(2)}x), ${(await import('node:os')).cpus().length} cores\n`);
