/**
 * redis-server closes the runtime's own connections as it closes any normal client's: after `timeout N` seconds
 * idle (redis.conf; pub/sub clients are exempt, so the keyspace subscription is not), or on an operator's
 * `CLIENT KILL`. The runtime reconnects them (docs/runtime.md, the runtime's own connections): its users see no
 * difference, and a warn line names the connection and the cause. A write right after its sync connection was
 * closed is still captured: the library call opens the connection again before it runs (sync-redis.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startRuntime, type StartedRuntime } from '../helpers/runtime.js';
import { until } from '../helpers/until.js';
import { recordedLog } from '../helpers/recorded-log.js';

const LIBRARY = `#!js api_version=1.0 name=ownconn
redis.registerFunction('incr', (client) => client.call('incr', 'oc:count'));
redis.registerKeySpaceTrigger('capture', 'oc:w:', (client, data) => {
  if (data.event === 'hset') client.call('xadd', 'oc:log', '*', 'key', data.key);
});`;

type Client = ReturnType<typeof createClient>;

const { log, lines } = recordedLog<{ level: number; msg: string; connection?: string; err?: string }>('warn');
const clients: Client[] = [];
let server: RedisServer;
let replicaServer: RedisServer;
let runtime: StartedRuntime;
let direct: Client;
let through: Client;
let replica: Client;

async function connect(url: string): Promise<Client> {
  const client = createClient({ url });
  client.on('error', () => undefined);
  await client.connect();
  clients.push(client);
  return client;
}

/** The server id of the runtime's connection named `writebehind-runtime-<role>`. */
async function ownId(role: string): Promise<string> {
  const list = await direct.clientList();
  const found = list.find((client) => client.name === `writebehind-runtime-${role}`);
  if (found === undefined) throw new Error(`no ${role} connection in CLIENT LIST`);
  return String(found.id);
}

/** Everything that goes through the runtime's own connections works. */
async function everythingWorks(key: string): Promise<void> {
  const counted = Number(await direct.get('oc:count') ?? 0);
  expect(await through.sendCommand(['TFCALL', 'ownconn.incr', '0'])).toBe(counted + 1);
  expect(await through.sendCommand(['TFUNCTION', 'LIST'])).toHaveLength(1);
  const captured = await direct.xLen('oc:log');
  expect(await through.hSet(key, 'f', 'v')).toBe(1);
  expect(await direct.xLen('oc:log')).toBe(captured + 1);
  // The replica through the runtime receives the trigger window (the control connection's ROLE closes it).
  expect(await until(() => replica.xLen('oc:log'), (n) => n === captured + 1, 5_000)).toBe(captured + 1);
  expect(await replica.exists(key)).toBe(1);
}

/** RESP2 maps come as flat arrays: [k, v, k, v…]. */
function toRecord(value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < (value as unknown[]).length; i += 2) out[String((value as unknown[])[i])] = (value as unknown[])[i + 1];
  return out;
}

async function captureTrigger(): Promise<Record<string, unknown>> {
  const list = (await through.sendCommand(['TFUNCTION', 'LIST', 'vvv', 'LIBRARY', 'ownconn'])) as unknown[];
  return toRecord((toRecord(list[0])['keyspace_triggers'] as unknown[])[0]);
}

function info(text: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)\\r?$`, 'm').exec(text)?.[1]?.trim();
}

beforeAll(async () => {
  server = await startRedisServer({ port: 7622, extraArgs: ['--timeout', '1'] });
  replicaServer = await startRedisServer({ port: 7623 });
  runtime = await startRuntime(server, { log });
  direct = await connect(server.url);
  through = await connect(runtime.url);
  replica = await connect(replicaServer.url);
  // A client of the runtime that stays idle would be closed too: each test connects afresh through it.
  expect(await through.sendCommand(['TFUNCTION', 'LOAD', LIBRARY])).toBe('OK');
  await replica.sendCommand(['REPLICAOF', '127.0.0.1', String(runtime.port)]);
  await until(() => replica.info('replication'), (text) => info(text, 'master_link_status') === 'up');
}, 30_000);

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  await runtime?.close();
  await replicaServer?.stop();
  await server?.stop();
}, 30_000);

describe("the runtime's own connections, closed by redis-server", () => {
  it('still serve library calls, TFUNCTION and trigger windows after the runtime sat idle past `timeout`', async () => {
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    through = await connect(runtime.url);
    await everythingWorks('oc:w:idle');
  }, 20_000);

  for (const role of ['control', 'sync']) {
    it(`reconnect the ${role} connection after a CLIENT KILL, with a warn line naming it`, async () => {
      through = await connect(runtime.url);
      const killed = await ownId(role);
      expect(await direct.sendCommand(['CLIENT', 'KILL', 'ID', killed])).toBe(1);
      await until(() => ownId(role).catch(() => killed), (id) => id !== killed, 5_000);
      await everythingWorks(`oc:w:${role}`);
      expect(lines.some((line) => line.level === 40 && line.connection === role && typeof line.err === 'string')).toBe(true);
      // CLIENT KILL through the runtime spares the new connection as it spared the old one.
      const reopened = await ownId(role);
      expect(await through.sendCommand(['CLIENT', 'KILL', 'ID', reopened])).toBe(0);
      expect(await ownId(role)).toBe(reopened);
    }, 20_000);
  }

  it('capture every write made right after redis-server closed the sync connection: the call opens it again', async () => {
    through = await connect(runtime.url);
    const captured = await direct.xLen('oc:log');
    for (let round = 0; round < 5; round++) {
      const killed = await ownId('sync');
      expect(await direct.sendCommand(['CLIENT', 'KILL', 'ID', killed])).toBe(1);
      for (let i = 0; i < 3; i++) expect(await through.hSet(`oc:w:right-after:${round}:${i}`, 'f', 'v')).toBe(1);
    }
    expect(await direct.xLen('oc:log')).toBe(captured + 15);
    const trigger = await captureTrigger();
    expect(trigger['num_failed']).toBe(0);
    expect(trigger['last_error']).toBeNull();
  }, 20_000);

  it('fail library calls with the address and why while redis-server refuses to open the sync connection again, and serve the next once it accepts', async () => {
    through = await connect(runtime.url);
    const maxclients = (await direct.configGet('maxclients'))['maxclients']!;
    const killed = await ownId('sync');
    // redis-server still accepts the TCP connection, then answers it an error and closes it.
    await direct.configSet('maxclients', '1');
    try {
      expect(await direct.sendCommand(['CLIENT', 'KILL', 'ID', killed])).toBe(1);
      const started = Date.now();
      await expect(through.sendCommand(['TFCALL', 'ownconn.incr', '0'])).rejects.toThrow(
        `the runtime's sync connection to redis-server at 127.0.0.1:${server.port} was closed (connection to redis-server closed) and cannot be opened again: HELLO 3 refused: ERR max number of clients reached`,
      );
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(await through.ping()).toBe('PONG');
    } finally {
      await direct.configSet('maxclients', maxclients);
    }
    const counted = Number(await direct.get('oc:count') ?? 0);
    expect(await through.sendCommand(['TFCALL', 'ownconn.incr', '0'])).toBe(counted + 1);
  }, 20_000);
});
