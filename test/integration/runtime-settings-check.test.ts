/**
 * A `CONFIG SET` sent to redis-server directly, not through the runtime, can take away what the runtime keeps
 * there (kept-settings.ts): the `notify-keyspace-events` flags its triggers need, the lifted `pubsub` class of
 * `client-output-buffer-limit`. The runtime checks both every second on its control connection, sets a changed
 * one back, says so in an error line and a metric and, for the flags (writes in between may not have been
 * captured), counts an unclean stop for the worker's repair (docs/runtime.md, protocol and robustness). Not on a
 * replica (it fires nothing there) until it is promoted; not after the runtime closed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/runtime/runtime.js';
import { missingNotifyFlags } from '../../src/runtime/server/kept-settings.js';
import { RUNTIME_UNCLEAN_STOPS_KEY } from '../../src/shared/keys.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { connectTestClient, type TestClient } from '../helpers/redis-client.js';
import { recordedLog } from '../helpers/recorded-log.js';
import { until } from '../helpers/until.js';

const LIBRARY = `#!js api_version=1.0 name=settingscheck
redis.registerKeySpaceTrigger('seen', 'sc:', (client, data) => {
  client.call('incr', 'fired:' + data.key);
});`;
/** The check runs every second: twice that and some, on two shared cores. */
const BOUND_MS = 5000;
const METRIC = 'writebehind_runtime_server_settings_changed_total';

const servers: RedisServer[] = [];
const runtimes: Runtime[] = [];
const clients: TestClient[] = [];
let server: RedisServer;
let direct: TestClient;

beforeAll(async () => {
  server = await startRedisServer();
  servers.push(server);
  direct = await connectTestClient(server.url, clients);
});

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  for (const runtime of runtimes) await runtime.close(); // a test's own, left open when it failed
  for (const started of servers) await started.stop();
}, 30_000);

async function setting(client: TestClient, name: string): Promise<string> {
  const reply = (await client.sendCommand(['CONFIG', 'GET', name])) as string[];
  return reply[1]!;
}

async function uncleanStops(): Promise<number> {
  return Number((await direct.get(RUNTIME_UNCLEAN_STOPS_KEY)) ?? 0);
}

/** How often redis-server ran CONFIG GET so far. */
async function configGets(client: TestClient): Promise<number> {
  const info = await client.info('commandstats');
  return Number(/cmdstat_config\|get:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

async function changedCount(runtime: Runtime, name: string): Promise<number> {
  const metric = await runtime.metricsRegistry!.getSingleMetric(METRIC)?.get();
  return metric?.values.find((value) => value.labels['setting'] === name)?.value ?? 0;
}

async function start(redis: RedisServer, log = recordedLog('info').log): Promise<Runtime> {
  const runtime = await Runtime.start({ redisUrl: redis.url, port: 0, log, metrics: {} });
  runtimes.push(runtime);
  return runtime;
}

describe('a setting the runtime keeps, changed on redis-server directly', () => {
  it('notify-keyspace-events switched off: set back within a bounded time, one unclean stop counted, an error logged and metered, and a write after it captured', { timeout: 30_000 }, async () => {
    const { log, lines } = recordedLog('info');
    const runtime = await start(server, log);
    try {
      const client = await connectTestClient(runtime.url, clients);
      expect(await client.sendCommand(['TFUNCTION', 'LOAD', LIBRARY])).toBe('OK');
      const before = await uncleanStops();

      await direct.sendCommand(['CONFIG', 'SET', 'notify-keyspace-events', '']);
      const flags = await until(() => setting(direct, 'notify-keyspace-events'), (value) => missingNotifyFlags(value) === '', BOUND_MS);
      expect(missingNotifyFlags(flags)).toBe('');
      expect(await until(uncleanStops, (count) => count > before, BOUND_MS)).toBe(before + 1);
      const error = await until(async () => lines.find((line) => line['level'] === 50 && line['setting'] === 'notify-keyspace-events'), (line) => line !== undefined, BOUND_MS);
      expect(error).toMatchObject({ found: '', setBack: 'AKm', uncleanStops: before + 1 });
      expect(String(error!['msg'])).toMatch(/may not have been captured/);
      expect(await changedCount(runtime, 'notify-keyspace-events')).toBe(1);

      await client.hSet('sc:1', 'f', 'v');
      expect(await client.get('fired:sc:1')).toBe('1');
      // Found once, counted once: later checks find the flags there.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(await uncleanStops()).toBe(before + 1);
      expect(await changedCount(runtime, 'notify-keyspace-events')).toBe(1);
    } finally {
      await runtime.close();
    }
  });

  it('notify-keyspace-events switched off and the unclean-stop count deleted meanwhile (no event tells the runtime): the stop is counted one past the count the runtime knew, not from 0', { timeout: 30_000 }, async () => {
    // The worker repaired after 3 stops (say): a count restarting at 1 would hide the next two from it.
    await direct.set(RUNTIME_UNCLEAN_STOPS_KEY, '3');
    const { log, lines } = recordedLog('info');
    const runtime = await start(server, log);
    try {
      await direct.sendCommand(['CONFIG', 'SET', 'notify-keyspace-events', '']);
      await direct.del(RUNTIME_UNCLEAN_STOPS_KEY);
      expect(await until(uncleanStops, (count) => count > 0, BOUND_MS)).toBe(4);
      const error = await until(async () => lines.find((line) => line['level'] === 50 && line['setting'] === 'notify-keyspace-events'), (line) => line !== undefined, BOUND_MS);
      expect(error).toMatchObject({ uncleanStops: 4 });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await uncleanStops()).toBe(4);
    } finally {
      await runtime.close();
    }
  });

  it('the pubsub class of client-output-buffer-limit restored: lifted again within a bounded time, an error logged and metered, no unclean stop (nothing was missed while the subscription held)', { timeout: 30_000 }, async () => {
    const { log, lines } = recordedLog('info');
    const runtime = await start(server, log);
    try {
      const before = await uncleanStops();

      await direct.sendCommand(['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1mb 1mb 0 pubsub 32mb 8mb 60']);
      const limit = await until(() => setting(direct, 'client-output-buffer-limit'), (value) => value.endsWith(' pubsub 0 0 0'), BOUND_MS);
      expect(limit).toMatch(/^normal 1048576 1048576 0 .* pubsub 0 0 0$/);
      const error = await until(async () => lines.find((line) => line['level'] === 50 && line['setting'] === 'client-output-buffer-limit'), (line) => line !== undefined, BOUND_MS);
      expect(error).toMatchObject({ found: expect.stringMatching(/ pubsub 33554432 8388608 60$/), setBack: 'pubsub 0 0 0' });
      expect(await changedCount(runtime, 'client-output-buffer-limit')).toBe(1);
      expect(await uncleanStops()).toBe(before);
    } finally {
      await runtime.close();
    }
  });

  it('stops when the runtime closes: no CONFIG GET reaches redis-server after, and no check is tried', { timeout: 30_000 }, async () => {
    const { log, lines } = recordedLog('debug');
    const runtime = await start(server, log);
    const started = await configGets(direct);
    await until(() => configGets(direct), (gets) => gets > started, BOUND_MS);
    await runtime.close();
    const after = await configGets(direct);
    const logged = lines.length;
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await configGets(direct)).toBe(after);
    // A check left running would find the control connection closed, and say so.
    expect(lines.slice(logged).filter((line) => line['component'] === 'settings-check')).toEqual([]);
  });
});

describe('on a replica', () => {
  it('does not run while the server is a replica (it fires nothing there), and sets the flags back once it is promoted', { timeout: 30_000 }, async () => {
    const primary = await startRedisServer();
    const replica = await startRedisServer();
    servers.push(primary, replica);
    const onReplica = await connectTestClient(replica.url, clients);
    await onReplica.sendCommand(['REPLICAOF', '127.0.0.1', String(primary.port)]);
    await until(async () => (await onReplica.info('replication')).includes('master_link_status:up'), (up) => up, BOUND_MS);
    const runtime = await start(replica);

    await onReplica.sendCommand(['CONFIG', 'SET', 'notify-keyspace-events', '']);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await setting(onReplica, 'notify-keyspace-events')).toBe('');
    expect(await changedCount(runtime, 'notify-keyspace-events')).toBe(0);

    await onReplica.sendCommand(['REPLICAOF', 'NO', 'ONE']);
    const flags = await until(() => setting(onReplica, 'notify-keyspace-events'), (value) => missingNotifyFlags(value) === '', BOUND_MS);
    expect(missingNotifyFlags(flags)).toBe('');
    expect(await changedCount(runtime, 'notify-keyspace-events')).toBe(1);
  });
});
