/**
 * A keyspace trigger whose Redis calls meet CLUSTERDOWN because the cluster went down after the write that fired
 * it ran. In Redis the write and its triggers are one execution unit, so the cluster state cannot change
 * between them; the runtime sends the trigger's calls after the write's reply, and a cluster that loses a node in
 * between refuses them (a clean-clone CI run of scale-out-cluster-rejoin.test.ts lost a DEL's capture that way:
 * the key gone from Redis, its row left in MySQL, the shard's `last_error` "CLUSTERDOWN The cluster is down").
 * The runtime fires such a trigger again once the cluster takes its calls, before the next write's triggers.
 *
 * The cluster is one node owning every slot, and the window is made deterministic by the trigger itself: on
 * `cd:flip` it first unassigns slot 0 (a cluster with an uncovered slot is down at once), as a lost node would,
 * and only then appends its record, which the server refuses. The test assigns the slot again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { findFreePorts } from '../../bench/support/redis-server-process.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { keySlot } from '../../src/shared/key-slot.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { until } from '../helpers/until.js';

const LIBRARY = `#!js api_version=1.0 name=clusterdown
redis.registerKeySpaceTrigger('log', 'cd:', (client, data) => {
  if (data.event !== 'hset' && data.event !== 'del') return;
  // Once: a fired-again trigger finds the guard and appends.
  if (data.key === 'cd:flip' && client.call('set', 'cdguard', '1', 'NX') !== null) client.call('cluster', 'delslots', '0');
  client.call('xadd', 'cdlog', '*', 'key', data.key, 'event', data.event);
});`;

type Client = ReturnType<typeof createClient>;

let server: RedisServer;
let runtime: Runtime;
let direct: Client;
let client: Client;

async function clusterState(): Promise<string> {
  return /cluster_state:(\w+)/.exec(await direct.sendCommand(['CLUSTER', 'INFO']))?.[1] ?? '';
}

async function logged(): Promise<string[]> {
  return (await direct.xRange('cdlog', '-', '+')).map((entry) => `${entry.message['event']} ${entry.message['key']}`);
}

async function triggerStats(): Promise<Record<string, unknown>> {
  const libraries = (await client.sendCommand(['TFUNCTION', 'LIST', 'vv'])) as unknown as unknown[][];
  const fields = (flat: unknown[]) => Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [String(flat[2 * i]), flat[2 * i + 1]]));
  const [trigger] = fields(libraries[0]!)['keyspace_triggers'] as unknown[][];
  return fields(trigger!);
}

beforeAll(async () => {
  const [runtimePort, busPort, serverPort] = (await findFreePorts(3)) as [number, number, number];
  server = await startRedisServer({
    port: serverPort,
    extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(busPort), '--cluster-announce-port', String(runtimePort)],
  });
  direct = createClient({ url: server.url });
  direct.on('error', () => undefined);
  await direct.connect();
  await direct.sendCommand(['CLUSTER', 'ADDSLOTSRANGE', '0', '16383']);
  await until(clusterState, (state) => state === 'ok', 10_000, 50);
  runtime = await Runtime.start({ redisUrl: server.url, port: runtimePort });
  client = createClient({ url: runtime.url });
  client.on('error', () => undefined);
  await client.connect();
  await client.sendCommand(['TFUNCTION', 'LOAD', LIBRARY]);
  // The keys the trigger writes are in served slots while slot 0 is not.
  for (const key of ['cdguard', 'cdlog', 'cd:flip', 'cd:after']) expect(keySlot(key)).not.toBe(0);
}, 30_000);

afterAll(async () => {
  await client?.close().catch(() => undefined);
  await direct?.close().catch(() => undefined);
  await runtime?.close();
  await server?.stop();
}, 30_000);

describe('a trigger whose calls meet CLUSTERDOWN after its write ran', () => {
  it('is fired again once the cluster is up, before the next write\'s triggers, and counts once, as a success', async () => {
    await client.hSet('cd:before', 'f', '1');
    expect(await client.hSet('cd:flip', 'f', '1')).toBe(1);
    // Down now: nothing with a key can be read until the slot is back.
    expect(await clusterState()).toBe('fail');

    await direct.sendCommand(['CLUSTER', 'ADDSLOTS', '0']);
    await until(clusterState, (state) => state === 'ok', 10_000, 20);
    await client.hSet('cd:after', 'f', '1');
    expect(await logged()).toEqual(['hset cd:before', 'hset cd:flip', 'hset cd:after']);
    expect(await triggerStats()).toMatchObject({ num_trigger: 3, num_finished: 3, num_success: 3, num_failed: 0 });
  });

  it('is fired again without another write, and a DEL too', async () => {
    await client.hSet('cd:flip', 'g', '1');
    await direct.del('cdguard');
    expect(await client.del('cd:flip')).toBe(1);
    expect(await clusterState()).toBe('fail');
    await direct.sendCommand(['CLUSTER', 'ADDSLOTS', '0']);
    await until(logged, (entries) => entries.at(-1) === 'del cd:flip', 10_000, 20);
    expect(await direct.exists('cd:flip')).toBe(0);
    expect((await logged()).slice(3)).toEqual(['hset cd:flip', 'del cd:flip']);
    expect(await triggerStats()).toMatchObject({ num_failed: 0 });
  });
});
