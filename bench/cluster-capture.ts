/**
 * `node dist/bench/cluster-capture.js [--seconds 10]`: captured HSETs/s through the local runtime, one runtime
 * over one redis-server against a 3-primary Redis Cluster with one runtime per shard (each in a process of its
 * own, the cluster announcing the runtimes). The library's keyspace trigger does a capture's work (HMGET of the
 * hash, XADD of a record into a stream in the hash's slot), so every write is captured on its own shard. Every
 * process shares this machine's cores: the figure says whether shards add capture throughput here, not on a
 * machine with a core per shard.
 */
import { createClient, createCluster } from 'redis';
import type { CliProcess } from './support/cli-process.js';
import { findFreePort, startRedisServerProcess, type RedisServerProcess } from './support/redis-server-process.js';
import { startRuntimeClusterProcesses, startRuntimeProcess } from './support/runtime-cluster-processes.js';

const CAPTURE_LIBRARY = `#!js api_version=1.0 name=benchcapture
redis.registerKeySpaceTrigger('capture', 'bc:', (client, data) => {
  const key = data.key;
  const values = client.call('hmget', key, 'a', 'b');
  client.call('xadd', '{' + key + '}:c', '*', 'key', key, 'a', String(values[0]), 'b', String(values[1]));
});`;

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1] ?? 10) || 10;
const WINDOW = 64;

interface Target {
  readonly servers: RedisServerProcess[];
  readonly runtimes: CliProcess[];
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
  const target = await startRuntimeClusterProcesses(3);
  try {
    const client = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${target.ports[0]}` }] });
    await client.connect();
    const loader = createClient({ url: `redis://127.0.0.1:${target.ports[0]}` });
    await loader.connect();
    await loader.sendCommand(['TFUNCTION', 'LOAD', CAPTURE_LIBRARY]);
    await loader.close();
    const rate = await load((i) => client.hSet(`bc:${i}`, { a: String(i), b: 'x' }));
    await client.close();
    for (const port of target.ports) {
      const failed = await failedCaptures(port);
      if (failed !== 0) throw new Error(`${failed} captures failed on the runtime at ${port}`);
    }
    return rate;
  } finally {
    await target.close();
  }
}

const one = await single();
const three = await cluster();
process.stdout.write(`captured HSET/s over ${seconds} s, window ${WINDOW}: one runtime ${one.toFixed(0)}, 3-shard cluster with 3 runtimes ${three.toFixed(0)} (${(three / one).toFixed(2)}x), ${(await import('node:os')).cpus().length} cores\n`);
