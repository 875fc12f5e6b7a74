/**
 * A runtime over a redis-server whose CONFIG command is renamed away (`rename-command CONFIG ""`, a common
 * hardening step) or denied to the runtime's user (NOPERM): it cannot turn on `notify-keyspace-events` itself,
 * so it checks by probe that the server already emits what it needs, and starts when it does; when the server
 * does not, the start fails naming the missing flags and the redis.conf line that fixes it. A replica refuses
 * the probe's writes: its runtime starts and probes at the promotion, where missing flags are reported (error
 * log, 'error') and keep triggers off while the runtime keeps serving.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { pino } from 'pino';
import { Runtime } from '../../src/runtime/runtime.js';
import { findFreePort, findFreePorts } from '../../bench/support/redis-server-process.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { until } from '../helpers/until.js';
import { connectTestClient, type TestClient } from '../helpers/redis-client.js';

const LIBRARY = `#!js api_version=1.0 name=configrenamed
redis.registerKeySpaceTrigger('seen', 'cr:', (client, data) => {
  client.call('incr', 'fired:' + data.key);
});
redis.registerFunction('touch', (client) => client.call('set', 'touched', '1'));`;

type Client = TestClient;

const servers: RedisServer[] = [];
const runtimes: Runtime[] = [];
const clients: Client[] = [];

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  for (const runtime of runtimes) await runtime.close();
  for (const server of servers) await server.stop();
}, 30_000);

const direct = (url: string) => connectTestClient(url, clients);

/** Whether something accepts connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function server(extraArgs: string[]): Promise<RedisServer> {
  const started = await startRedisServer({ extraArgs });
  servers.push(started);
  return started;
}

/** A logger whose lines are kept (parsed) in `lines`. */
function capturingLogger(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

/** `port` 0: a free one. */
async function startThrough(redisUrl: string, port: number, log?: pino.Logger): Promise<Runtime> {
  const runtime = await Runtime.start({ redisUrl, port, ...(log ? { log } : {}) });
  runtimes.push(runtime);
  return runtime;
}

async function fires(runtime: Runtime): Promise<void> {
  const client = await direct(runtime.url);
  expect(await client.sendCommand(['TFUNCTION', 'LOAD', LIBRARY])).toBe('OK');
  await client.hSet('cr:1', 'f', 'v');
  expect(await client.get('fired:cr:1')).toBe('1');
}

const RENAMED = ['--rename-command', 'CONFIG', ''];

describe('a runtime over a redis-server whose CONFIG is renamed away', () => {
  it('starts when notify-keyspace-events already has what it needs (verified by probe), and fires a keyspace trigger', async () => {
    const redis = await server([...RENAMED, '--notify-keyspace-events', 'AKm']);
    const { log, lines } = capturingLogger();
    const runtime = await startThrough(redis.url, 0, log);
    expect(lines.some((line) => line['level'] === 30 && /CONFIG is unavailable/.test(String(line['msg'])) && /verified by probe/.test(String(line['msg'])))).toBe(true);
    // What CONFIG would have done and cannot: said, not fatal.
    expect(lines.some((line) => line['level'] === 40 && /client-output-buffer-limit pubsub 0 0 0/.test(String(line['msg'])))).toBe(true);
    // Nothing is evicted on this server (no maxmemory): the unprobed `e` is not worth a warning.
    expect(lines.some((line) => /eviction events/.test(String(line['msg'])))).toBe(false);
    await fires(runtime);
    // The probe leaves no key of its own behind.
    const keys = await (await direct(redis.url)).keys('__writebehind_runtime__:notify-probe*');
    expect(keys).toEqual([]);
  }, 30_000);

  it('refuses to start when notify-keyspace-events is empty, naming the flags and the redis.conf fix (password redacted)', async () => {
    const redis = await server(RENAMED);
    // A password set once the server answers (the launcher's PING has none).
    await (await direct(redis.url)).sendCommand(['ACL', 'SETUSER', 'default', 'on', '>secret-pw-1']);
    const port = await findFreePort();
    const start = startThrough(`redis://:secret-pw-1@127.0.0.1:${redis.port}`, port);
    const error = (await start.then(() => null, (e: unknown) => e)) as Error | null;
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toMatch(/notify-keyspace-events AKm/);
    expect(error!.message).toMatch(/redis\.conf/);
    expect(error!.message).toMatch(/missing: K, g, \$, l, s, h, z, x, t, m/);
    expect(error!.message).toContain(`127.0.0.1:${redis.port}`);
    expect(error!.message).not.toContain('secret-pw-1');
    // Nothing listens: the start failed before the RESP server.
    expect(await listening(port)).toBe(false);
    // The probe left nothing behind.
    const keys = await (await direct(`redis://:secret-pw-1@127.0.0.1:${redis.port}`)).keys('*');
    expect(keys).toEqual([]);
  }, 30_000);

  it('names only the flags that are missing (keyspace channels without key misses)', async () => {
    const redis = await server([...RENAMED, '--notify-keyspace-events', 'KA']);
    const error = (await startThrough(redis.url, 0).then(() => null, (e: unknown) => e)) as Error | null;
    expect(error?.message).toMatch(/missing: m\b/);
    expect(error?.message).toMatch(/notify-keyspace-events AKm/);
  }, 30_000);

  it('names K when the server emits only keyevent channels', async () => {
    const redis = await server([...RENAMED, '--notify-keyspace-events', 'EAm']);
    const error = (await startThrough(redis.url, 0).then(() => null, (e: unknown) => e)) as Error | null;
    expect(error?.message).toMatch(/missing: K\)/);
  }, 30_000);

  it('says that eviction events are unverified when the server may evict', async () => {
    const redis = await server([...RENAMED, '--notify-keyspace-events', 'AKm', '--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru']);
    const { log, lines } = capturingLogger();
    await startThrough(redis.url, 0, log);
    expect(lines.some((line) => line['level'] === 40 && /eviction events/.test(String(line['msg'])))).toBe(true);
  }, 30_000);
});

describe('a runtime over a replica whose CONFIG is renamed away', () => {
  /** A primary holding LIBRARY (loaded through a runtime of its own) and a replica of it, synced, CONFIG renamed. */
  async function replicaWithLibrary(replicaFlags: string): Promise<{ primary: RedisServer; replica: RedisServer }> {
    const primary = await server(['--notify-keyspace-events', 'AKm']);
    const primaryRuntime = await startThrough(primary.url, 0);
    expect(await (await direct(primaryRuntime.url)).sendCommand(['TFUNCTION', 'LOAD', LIBRARY])).toBe('OK');
    const replica = await server([...RENAMED, '--notify-keyspace-events', replicaFlags, '--replicaof', '127.0.0.1', String(primary.port)]);
    // The library store reached the replica: its runtime loads the library from there at start.
    await caughtUp(primary, replica);
    return { primary, replica };
  }

  /**
   * Until the replica has applied everything the primary wrote. (WAIT on a connection of its own would not do:
   * it waits for that connection's writes only, and a fresh one has made none, so it answers at once.)
   */
  async function caughtUp(primary: RedisServer, replica: RedisServer): Promise<void> {
    const offset = async (client: TestClient) => Number(/^master_repl_offset:(\d+)/m.exec(await client.info('replication'))?.[1] ?? -1);
    const target = await offset(await direct(primary.url));
    const replicaClient = await direct(replica.url);
    await until(() => offset(replicaClient), (at) => at >= target, 10_000);
  }

  it('starts, saying that the check waits for a promotion, and serves reads (the probe cannot write there)', async () => {
    const { primary, replica } = await replicaWithLibrary('AKm');
    await (await direct(primary.url)).set('plain', 'from-primary');
    await caughtUp(primary, replica);
    const { log, lines } = capturingLogger();
    const runtime = await startThrough(replica.url, 0, log);
    expect(lines.some((line) => line['level'] === 30 && /replica/.test(String(line['msg'])) && /checked once it is promoted/.test(String(line['msg'])))).toBe(true);
    expect(lines.some((line) => /verified by probe/.test(String(line['msg'])))).toBe(false);
    expect(await (await direct(runtime.url)).get('plain')).toBe('from-primary');
  }, 30_000);

  it('probes at promotion and fires triggers once the flags are verified', async () => {
    const { replica } = await replicaWithLibrary('AKm');
    const { log, lines } = capturingLogger();
    const runtime = await startThrough(replica.url, 0, log);
    await (await direct(replica.url)).sendCommand(['REPLICAOF', 'NO', 'ONE']);
    await until(async () => lines.some((line) => /verified by probe/.test(String(line['msg']))), Boolean);
    const client = await direct(runtime.url);
    await client.hSet('cr:1', 'f', 'v');
    expect(await client.get('fired:cr:1')).toBe('1');
    expect(await (await direct(replica.url)).keys('__writebehind_runtime__:notify-probe*')).toEqual([]);
  }, 30_000);

  it('reports missing flags at promotion as at start (password redacted), keeps serving, and fires no trigger', async () => {
    // Keyspace channels without key misses: the HSET below would fire were triggers not refused.
    const { replica } = await replicaWithLibrary('KA');
    // A password set once the server answers (the launcher's PING has none); the direct client stays logged in.
    const admin = await direct(replica.url);
    await admin.sendCommand(['ACL', 'SETUSER', 'default', 'on', '>secret-pw-2']);
    const { log, lines } = capturingLogger();
    const runtime = await startThrough(`redis://:secret-pw-2@127.0.0.1:${replica.port}`, 0, log);
    const errors: unknown[] = [];
    runtime.on('error', (error: unknown) => errors.push(error));
    await admin.sendCommand(['REPLICAOF', 'NO', 'ONE']);
    const reported = await until(async () => lines.find((line) => line['level'] === 50 && /notify-keyspace-events/.test(JSON.stringify(line))), (line) => line !== undefined);
    const text = JSON.stringify(reported);
    expect(text).toMatch(/missing: m\b/);
    expect(text).toMatch(/notify-keyspace-events AKm/);
    expect(text).toMatch(/redis\.conf/);
    expect(text).toContain(`127.0.0.1:${replica.port}`);
    expect(text).not.toContain('secret-pw-2');
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toMatch(/missing: m\b/);
    // Still serving, on the promoted server, with its triggers refused.
    const client = await direct(`redis://:secret-pw-2@127.0.0.1:${runtime.port}`);
    expect(await client.hSet('cr:1', 'f', 'v')).toBe(1);
    expect(await client.hGet('cr:1', 'f')).toBe('v');
    expect(await client.get('fired:cr:1')).toBeNull();
    // For RedisGears it is still as on the replica: functions that may write and loads are refused.
    await expect(client.sendCommand(['TFCALL', 'configrenamed.touch', '0'])).rejects.toThrow(/on a replica/);
    await expect(client.sendCommand(['TFUNCTION', 'LOAD', 'REPLACE', LIBRARY])).rejects.toThrow(/READONLY/);
    expect(await admin.keys('__writebehind_runtime__:notify-probe*')).toEqual([]);
  }, 30_000);
});

describe('a runtime whose user may not run CONFIG (NOPERM)', () => {
  it('verifies notify-keyspace-events by probe and starts', async () => {
    const redis = await server(['--notify-keyspace-events', 'AKEm']);
    const admin = await direct(redis.url);
    await admin.sendCommand(['ACL', 'SETUSER', 'rt', 'on', '>rt-pw', '~*', '&*', '+@all', '-config']);
    const runtime = await startThrough(`redis://rt:rt-pw@127.0.0.1:${redis.port}`, 0);
    await fires(runtime);
  }, 30_000);
});

describe('a runtime over a cluster node whose CONFIG is renamed away', () => {
  it('probes with a key in a slot the node serves, reads the announced port from CLUSTER NODES, and fires a trigger', async () => {
    const [runtimePort, clusterPort] = (await findFreePorts(2)) as [number, number];
    const redis = await server([...RENAMED, '--notify-keyspace-events', 'AKm', '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
      '--cluster-port', String(clusterPort), '--cluster-announce-port', String(runtimePort)]);
    const admin = await direct(redis.url);
    await admin.sendCommand(['CLUSTER', 'ADDSLOTSRANGE', '0', '16383']);
    await until(async () => String(await admin.sendCommand(['CLUSTER', 'INFO'])), (info) => info.includes('cluster_state:ok'), 10_000);
    const { log, lines } = capturingLogger();
    const runtime = await startThrough(redis.url, runtimePort, log);
    expect(lines.some((line) => /verified by probe/.test(String(line['msg'])))).toBe(true);
    expect(lines.some((line) => /does not announce this runtime/.test(String(line['msg'])))).toBe(false);
    await fires(runtime);
    expect(await admin.keys('__writebehind_runtime__:notify-probe*')).toEqual([]);
  }, 30_000);
});

describe('a runtime whose server has CONFIG (unchanged)', () => {
  it('merges its flags into notify-keyspace-events with CONFIG SET and probes nothing', async () => {
    const redis = await server(['--notify-keyspace-events', 'Ex']);
    const { log, lines } = capturingLogger();
    await startThrough(redis.url, 0, log);
    const [, flags] = (await (await direct(redis.url)).sendCommand(['CONFIG', 'GET', 'notify-keyspace-events'])) as string[];
    // Redis reports x within A.
    expect(new Set(flags)).toEqual(new Set('AKEm'));
    expect(lines.some((line) => /probe|CONFIG is unavailable/.test(String(line['msg'])))).toBe(false);
  }, 30_000);
});
