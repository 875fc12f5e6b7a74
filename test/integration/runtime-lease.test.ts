/**
 * One runtime per redis-server (runtime/runtime-lease.ts): two runtimes in front of the same server (two ports,
 * two hosts) would each subscribe to its keyspace events and fire every trigger, so every write would be
 * captured twice, and a clean stop of one would delete the running mark the other relies on. The runtime takes
 * a lease on its server (`__writebehind_runtime__:lease`, a TTL refreshed while it runs): a second runtime
 * refuses to start, naming the holder; after a crash the lease expires within its TTL, and a restart in that
 * window waits for it; a clean stop releases it at once; a lease lost while running is taken again when free,
 * and a runtime that finds another holding it closes.
 */
import { connect, type Socket } from 'node:net';
import { createClient } from 'redis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RUNTIME_LEASE_KEY, RUNTIME_RUNNING_KEY } from '../../src/shared/keys.js';
import { LEASE_TTL_MS } from '../../src/runtime/runtime-lease.js';
import { lib, eventually } from './gears-support.js';
import { runCli } from '../helpers/cli.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startRuntimeProcess, type RuntimeProcess } from '../helpers/runtime-process.js';

const COUNTER = lib('leasecount', "redis.registerKeySpaceTrigger('seen', 'lease:', (c, e) => { c.call('rpush', 'seen', e.key); });");

let redis: RedisServer;
let direct: ReturnType<typeof createClient>;
const started: RuntimeProcess[] = [];

beforeEach(async () => {
  redis = await startRedisServer();
  direct = createClient({ url: redis.url });
  await direct.connect();
});

afterEach(async () => {
  for (const runtime of started.splice(0)) await runtime.close();
  await direct?.quit().catch(() => undefined);
  await redis?.stop();
});

async function start(args: readonly string[] = []): Promise<RuntimeProcess> {
  const runtime = await startRuntimeProcess(redis, args);
  started.push(runtime);
  return runtime;
}

/** What `writebehind runtime` does over the test's server, run to its end (it must end by itself). */
const runSecond = () => runCli(['runtime', '--port', '0', '--redis', redis.url, '--log-level', 'warn'], { timeoutMs: 15_000 });

describe('a second runtime over the same redis-server', () => {
  it('refuses to start: the CLI exits 1, naming the lease’s holder (host, pid, port) and the fix, and leaves the first one’s mark alone', async () => {
    const first = await start();
    const mark = await direct.get(RUNTIME_RUNNING_KEY);
    const second = await runSecond();
    expect(second.timedOut, second.stdout).toBe(false);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/error \[RUNTIME_LEASE\]/);
    expect(second.stderr).toContain(`pid ${first.pid}`);
    expect(second.stderr).toContain(`port ${first.port}`);
    expect(second.stderr).toMatch(/hint: stop that runtime/);
    // Refused as soon as the holder was seen refreshing its lease, not after waiting out the TTL.
    expect(second.ms).toBeLessThan(LEASE_TTL_MS);
    expect(await direct.get(RUNTIME_RUNNING_KEY)).toBe(mark);
  });

  it('one HSET is captured once (the keyspace trigger appends once), straight on redis-server or through the first', async () => {
    const first = await start();
    const client = createClient({ url: first.url });
    await client.connect();
    try {
      await client.sendCommand(['TFUNCTION', 'LOAD', COUNTER]);
      await start().catch(() => undefined);
      await direct.hSet('lease:1', 'a', '1');
      await client.hSet('lease:2', 'a', '1');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await direct.lRange('seen', 0, -1)).toEqual(['lease:1', 'lease:2']);
    } finally {
      await client.quit();
    }
  });
});

describe('a restart', () => {
  it('after a SIGKILL of the holder: waits for its lease to expire (logged, naming it), then starts within the TTL and a margin', async () => {
    const first = await start();
    await first.kill();
    const began = Date.now();
    const next = await start();
    const waited = Date.now() - began;
    expect(waited).toBeLessThan(LEASE_TTL_MS + 3000);
    expect(next.output()).toMatch(/waiting for it to expire/);
    expect(next.output()).toContain(`pid ${first.pid}`);
    expect(await direct.get(RUNTIME_LEASE_KEY)).toContain(`pid ${next.pid}`);
  });

  it('after a clean stop: starts at once (the lease was released at the stop)', async () => {
    const first = await start();
    expect(await direct.get(RUNTIME_LEASE_KEY)).toContain(`pid ${first.pid}`);
    expect(await first.close()).toBe(0);
    expect(await direct.exists(RUNTIME_LEASE_KEY)).toBe(0);
    const began = Date.now();
    const next = await start();
    expect(Date.now() - began).toBeLessThan(LEASE_TTL_MS / 2);
    expect(next.output()).not.toMatch(/waiting for it to expire/);
  });
});

describe('a lease lost while the runtime runs', () => {
  it('deleted (or gone with a restart of redis-server without persistence, a FLUSHALL): taken again, with a warning', async () => {
    const first = await start();
    await direct.flushAll();
    await eventually(async () => expect(await direct.get(RUNTIME_LEASE_KEY)).toContain(`pid ${first.pid}`), LEASE_TTL_MS);
    await eventually(() => expect(first.output()).toMatch(/runtime lease was gone .*taken again/));
    const ttl = await direct.pTTL(RUNTIME_LEASE_KEY);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(LEASE_TTL_MS);
  });

  it('held by another runtime when it looks: it logs an error naming the holder and closes (exit 1), leaving the running mark', async () => {
    const first = await start();
    const other = `pid 4242 on host elsewhere, port 6380 [server ${await runIdOf(direct)}]`;
    await direct.set(RUNTIME_LEASE_KEY, other, { PX: 60_000 });
    const code = await Promise.race([first.exited(), new Promise((resolve) => setTimeout(() => resolve('still running'), LEASE_TTL_MS))]);
    expect(code).toBe(1);
    expect(first.output()).toMatch(/pid 4242 on host elsewhere/);
    expect(await direct.get(RUNTIME_RUNNING_KEY)).not.toBeNull();
    expect(await direct.get(RUNTIME_LEASE_KEY)).toBe(other);
  });
});

describe('a replica’s runtime', () => {
  it('takes no lease while its server replicates, and takes it at the promotion over the one replicated from the former primary’s runtime, which it does not wait for', async () => {
    const primaryRuntime = await start();
    const replicaServer = await startRedisServer();
    const replica = createClient({ url: replicaServer.url });
    await replica.connect();
    try {
      await replica.sendCommand(['REPLICAOF', '127.0.0.1', String(redis.port)]);
      // The primary's runtime's lease, replicated.
      await eventually(async () => expect(await replica.get(RUNTIME_LEASE_KEY)).toContain(`pid ${primaryRuntime.pid}`), 5000);
      const replicaRuntime = await startRuntimeProcess(replicaServer);
      started.push(replicaRuntime);
      expect(replicaRuntime.output()).not.toMatch(/waiting for it to expire/);
      await replica.sendCommand(['REPLICAOF', 'NO', 'ONE']);
      await eventually(async () => expect(await replica.get(RUNTIME_LEASE_KEY)).toContain(`pid ${replicaRuntime.pid}`), 3000);
      await eventually(() => expect(replicaRuntime.output()).toMatch(/lease held here was of a runtime in front of another redis-server process/));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await replica.get(RUNTIME_LEASE_KEY)).toContain(`pid ${replicaRuntime.pid}`);
      expect(replicaRuntime.output()).not.toMatch(/another runtime holds the lease/);
      expect(await direct.get(RUNTIME_LEASE_KEY)).toContain(`pid ${primaryRuntime.pid}`);
    } finally {
      for (const runtime of started.splice(1)) await runtime.close();
      await replica.quit();
      await replicaServer.stop();
    }
  });
});

async function runIdOf(client: ReturnType<typeof createClient>): Promise<string> {
  return /run_id:(\w+)/.exec(await client.info('server'))![1]!;
}

describe('a runtime stalled past its lease’s TTL while another took the lease over', () => {
  it('fires nothing when it resumes: each HSET, sent to it while it was stopped or straight to redis-server, is captured once (by the new holder), and the stalled one closes', async () => {
    const first = await start();
    const setup = createClient({ url: first.url });
    await setup.connect();
    await setup.sendCommand(['TFUNCTION', 'LOAD', COUNTER]);
    await setup.quit();
    // A client of the first runtime whose HSET waits in the socket while the runtime is stopped.
    const client = await connectRaw(first.port);
    process.kill(first.pid, 'SIGSTOP');
    try {
      const second = await start();
      await direct.hSet('lease:direct', 'a', '1');
      await eventually(async () => expect(await direct.lRange('seen', 0, -1)).toEqual(['lease:direct']));
      client.write('*4\r\n$4\r\nHSET\r\n$10\r\nlease:sent\r\n$1\r\na\r\n$1\r\n1\r\n');
    } finally {
      process.kill(first.pid, 'SIGCONT');
    }
    const code = await Promise.race([first.exited(), new Promise((resolve) => setTimeout(() => resolve('still running'), LEASE_TTL_MS))]);
    expect(code).toBe(1);
    // The stalled runtime may close before forwarding the HSET it was sent (its client then sees the connection
    // close, as with a server that stops): if the HSET ran, the new holder captured it, once.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const sentRan = (await direct.exists('lease:sent')) === 1;
    expect((await direct.lRange('seen', 0, -1)).sort()).toEqual(sentRan ? ['lease:direct', 'lease:sent'] : ['lease:direct']);
    client.destroy();
  });
});

function connectRaw(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => resolve(socket));
    socket.on('error', reject);
  });
}
