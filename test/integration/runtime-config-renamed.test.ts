/**
 * A runtime over a redis-server whose CONFIG command is renamed away (`rename-command CONFIG ""`, a common
 * hardening step) or denied to the runtime's user (NOPERM): it cannot turn on `notify-keyspace-events` itself,
 * so it checks by probe that the server already emits what it needs, and starts when it does; when the server
 * does not, the start fails naming the missing flags and the redis.conf line that fixes it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { pino } from 'pino';
import { Runtime } from '../../src/runtime/runtime.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { until } from '../helpers/until.js';
import { connectTestClient, type TestClient } from '../helpers/redis-client.js';

const LIBRARY = `#!js api_version=1.0 name=configrenamed
redis.registerKeySpaceTrigger('seen', 'cr:', (client, data) => {
  client.call('incr', 'fired:' + data.key);
});`;

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

async function server(port: number, extraArgs: string[]): Promise<RedisServer> {
  const started = await startRedisServer({ port, extraArgs });
  servers.push(started);
  return started;
}

/** A logger whose lines are kept (parsed) in `lines`. */
function capturingLogger(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

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
    const redis = await server(7700, [...RENAMED, '--notify-keyspace-events', 'AKm']);
    const { log, lines } = capturingLogger();
    const runtime = await startThrough(redis.url, 7710, log);
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
    const redis = await server(7701, RENAMED);
    // A password set once the server answers (the launcher's PING has none).
    await (await direct(redis.url)).sendCommand(['ACL', 'SETUSER', 'default', 'on', '>secret-pw-1']);
    const start = startThrough(`redis://:secret-pw-1@127.0.0.1:${redis.port}`, 7711);
    const error = (await start.then(() => null, (e: unknown) => e)) as Error | null;
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toMatch(/notify-keyspace-events AKm/);
    expect(error!.message).toMatch(/redis\.conf/);
    expect(error!.message).toMatch(/missing: K, g, \$, l, s, h, z, x, t, m/);
    expect(error!.message).toContain(`127.0.0.1:${redis.port}`);
    expect(error!.message).not.toContain('secret-pw-1');
    // Nothing listens: the start failed before the RESP server.
    expect(await listening(7711)).toBe(false);
    // The probe left nothing behind.
    const keys = await (await direct(`redis://:secret-pw-1@127.0.0.1:${redis.port}`)).keys('*');
    expect(keys).toEqual([]);
  }, 30_000);

  it('names only the flags that are missing (keyspace channels without key misses)', async () => {
    const redis = await server(7702, [...RENAMED, '--notify-keyspace-events', 'KA']);
    const error = (await startThrough(redis.url, 7712).then(() => null, (e: unknown) => e)) as Error | null;
    expect(error?.message).toMatch(/missing: m\b/);
    expect(error?.message).toMatch(/notify-keyspace-events AKm/);
  }, 30_000);

  it('names K when the server emits only keyevent channels', async () => {
    const redis = await server(7703, [...RENAMED, '--notify-keyspace-events', 'EAm']);
    const error = (await startThrough(redis.url, 7713).then(() => null, (e: unknown) => e)) as Error | null;
    expect(error?.message).toMatch(/missing: K\)/);
  }, 30_000);

  it('says that eviction events are unverified when the server may evict', async () => {
    const redis = await server(7705, [...RENAMED, '--notify-keyspace-events', 'AKm', '--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru']);
    const { log, lines } = capturingLogger();
    await startThrough(redis.url, 7715, log);
    expect(lines.some((line) => line['level'] === 40 && /eviction events/.test(String(line['msg'])))).toBe(true);
  }, 30_000);

  it('refuses to start on a read-only replica, which the probe cannot write to, saying so', async () => {
    const primary = await server(7706, ['--notify-keyspace-events', 'AKm']);
    const redis = await server(7707, [...RENAMED, '--notify-keyspace-events', 'AKm', '--replicaof', '127.0.0.1', String(primary.port)]);
    const error = (await startThrough(redis.url, 7717).then(() => null, (e: unknown) => e)) as Error | null;
    expect(error?.message).toMatch(/probe write of its own key .* was refused \(READONLY/);
    expect(error?.message).toMatch(/notify-keyspace-events AKm/);
  }, 30_000);
});

describe('a runtime whose user may not run CONFIG (NOPERM)', () => {
  it('verifies notify-keyspace-events by probe and starts', async () => {
    const redis = await server(7704, ['--notify-keyspace-events', 'AKEm']);
    const admin = await direct(redis.url);
    await admin.sendCommand(['ACL', 'SETUSER', 'rt', 'on', '>rt-pw', '~*', '&*', '+@all', '-config']);
    const runtime = await startThrough(`redis://rt:rt-pw@127.0.0.1:${redis.port}`, 7714);
    await fires(runtime);
  }, 30_000);
});

describe('a runtime over a cluster node whose CONFIG is renamed away', () => {
  it('probes with a key in a slot the node serves, reads the announced port from CLUSTER NODES, and fires a trigger', async () => {
    const runtimePort = 7716;
    const redis = await server(7709, [...RENAMED, '--notify-keyspace-events', 'AKm', '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
      '--cluster-port', '7719', '--cluster-announce-port', String(runtimePort)]);
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
    const redis = await server(7708, ['--notify-keyspace-events', 'Ex']);
    const { log, lines } = capturingLogger();
    await startThrough(redis.url, 7718, log);
    const [, flags] = (await (await direct(redis.url)).sendCommand(['CONFIG', 'GET', 'notify-keyspace-events'])) as string[];
    // Redis reports x within A.
    expect(new Set(flags)).toEqual(new Set('AKEm'));
    expect(lines.some((line) => /probe|CONFIG is unavailable/.test(String(line['msg'])))).toBe(false);
  }, 30_000);
});
