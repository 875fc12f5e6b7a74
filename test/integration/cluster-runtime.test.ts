/**
 * The runtime on a real Redis Cluster (3 primaries on loopback, one runtime in front of each): the cluster
 * advertises the runtimes, a cluster client works through them across every shard, TFUNCTION LOAD/DELETE on one
 * runtime reaches every shard, and a keyspace trigger fires on the shard that owns the key.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, createCluster } from 'redis';
import { keySlot } from '../../src/shared/key-slot.js';
import { connectTestClient } from '../helpers/redis-client.js';
import { startRuntimeCluster, type RuntimeCluster } from '../helpers/redis-cluster.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { startRuntime } from '../helpers/runtime.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { runDeploy } from '../../src/cli/actions/deploy.js';
import { runStart } from '../../src/cli/actions/start.js';
import { until } from '../helpers/until.js';
import { recordedLog } from '../helpers/recorded-log.js';
import { RUNTIME_LEASE_KEY } from '../../src/shared/keys.js';

const LIBRARY = `#!js api_version=1.0 name=clusterlib
redis.registerFunction('hello', () => 'hello from ' + redis.config.who);
redis.registerKeySpaceTrigger('seen', 'ct:', (client, data) => {
  client.call('incr', 'fired:{' + data.key + '}');
});`;

type Client = ReturnType<typeof createClient>;

let cluster: RuntimeCluster;
const clients: Array<{ close(): Promise<unknown> }> = [];

/** A client of one node, closed after the file. */
const direct = (url: string): Promise<Client> => connectTestClient(url, clients);

async function clusterClient() {
  const client = createCluster({ rootNodes: cluster.shards.slice(0, 1).map((s) => ({ url: s.url })) });
  client.on('error', () => undefined);
  await client.connect();
  clients.push({ close: () => client.close() });
  return client;
}

/** The runtime port that serves `key`'s slot, from CLUSTER SLOTS as one runtime reports it. */
async function ownerPort(client: Client, key: string): Promise<number> {
  const slots = (await client.sendCommand(['CLUSTER', 'SLOTS'])) as [number, number, [string, number, string]][];
  const slot = keySlot(key);
  const range = slots.find(([from, to]) => slot >= from && slot <= to);
  return Number(range![2][1]);
}

beforeAll(async () => {
  cluster = await startRuntimeCluster(3);
}, 60_000);

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  await cluster?.close();
}, 30_000);

describe('the runtime in front of each shard of a Redis Cluster', () => {
  it('CLUSTER SLOTS through a runtime names the runtimes, not the redis-servers behind them', async () => {
    const client = await direct(cluster.shards[1]!.url);
    const slots = (await client.sendCommand(['CLUSTER', 'SLOTS'])) as [number, number, [string, number, string]][];
    const ports = new Set(slots.map((range) => Number(range[2][1])));
    expect(ports).toEqual(new Set(cluster.shards.map((s) => s.runtime.port)));
  });

  it('a MOVED reply names the runtime that owns the slot', async () => {
    const client = await direct(cluster.shards[0]!.url);
    const key = 'moved:1';
    const owner = await ownerPort(client, key);
    const other = cluster.shards.find((s) => s.runtime.port !== owner)!;
    const wrong = await direct(other.url);
    await expect(wrong.sendCommand(['SET', key, 'v'])).rejects.toThrow(`MOVED ${keySlot(key)} 127.0.0.1:${owner}`);
  });

  it('a cluster client reads and writes keys on every shard through the runtimes, following MOVED', async () => {
    const client = await clusterClient();
    const keys = Array.from({ length: 60 }, (_, i) => `spread:${i}`);
    for (const key of keys) await client.set(key, `value of ${key}`);
    for (const key of keys) expect(await client.get(key)).toBe(`value of ${key}`);
    // Every redis-server behind the runtimes holds some of them: the keys really are spread over the shards.
    for (const shard of cluster.shards) {
      const server = await direct(shard.server.url);
      expect(await server.dbSize()).toBeGreaterThan(0);
    }
  });

  it('TFUNCTION LOAD on one runtime loads the library on every shard, and TFUNCTION DELETE deletes it everywhere', async () => {
    const loader = await direct(cluster.shards[2]!.url);
    expect(await loader.sendCommand(['TFUNCTION', 'LOAD', 'REPLACE', 'CONFIG', JSON.stringify({ who: 'cluster' }), LIBRARY])).toBe('OK');
    for (const shard of cluster.shards) {
      const client = await direct(shard.url);
      expect(await client.sendCommand(['TFCALL', 'clusterlib.hello', '0'])).toBe('hello from cluster');
    }
    expect(await loader.sendCommand(['TFUNCTION', 'DELETE', 'clusterlib'])).toBe('OK');
    for (const shard of cluster.shards) {
      const client = await direct(shard.url);
      expect(await client.sendCommand(['TFUNCTION', 'LIST'])).toEqual([]);
    }
  });

  it('a keyspace trigger fires on the shard that owns the key', async () => {
    const loader = await direct(cluster.shards[0]!.url);
    expect(await loader.sendCommand(['TFUNCTION', 'LOAD', 'REPLACE', 'CONFIG', '{"who":"x"}', LIBRARY])).toBe('OK');
    const client = await clusterClient();
    const keys = Array.from({ length: 30 }, (_, i) => `ct:${i}`);
    for (const key of keys) await client.hSet(key, 'f', 'v');
    for (const key of keys) {
      expect(await until(() => client.get(`fired:{${key}}`), (v) => v === '1')).toBe('1');
    }
    // The counter was written on the owning shard's redis-server, next to the key.
    for (const key of keys) {
      const port = await ownerPort(loader, key);
      const shard = cluster.shards.find((s) => s.runtime.port === port)!;
      const server = await direct(shard.server.url);
      expect(await server.exists(key)).toBe(1);
      expect(await server.get(`fired:{${key}}`)).toBe('1');
    }
    expect(new Set(await Promise.all(keys.map((k) => ownerPort(loader, k)))).size).toBe(3);
  });
});

/** The `seen` keyspace trigger's counters on one runtime (TFUNCTION LIST vv, RESP2 name/value arrays). */
async function triggerStats(url: string): Promise<Record<string, unknown>> {
  const [library] = (await (await direct(url)).sendCommand(['TFUNCTION', 'LIST', 'vv'])) as unknown[][];
  const fields = (flat: unknown[]) => Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [String(flat[2 * i]), flat[2 * i + 1]]));
  const [trigger] = fields(library!)['keyspace_triggers'] as unknown[][];
  return fields(trigger!);
}

describe('resharding through the runtimes', () => {
  it("redis-cli --cluster reshard moves slots with their keys; MIGRATE's own del and restore events fire the trigger on both shards", async () => {
    const loader = await direct(cluster.shards[0]!.url);
    expect(await loader.sendCommand(['TFUNCTION', 'LOAD', 'REPLACE', 'CONFIG', '{"who":"x"}', LIBRARY])).toBe('OK');
    const [from, to] = [cluster.shards[0]!, cluster.shards[1]!];
    const ids = await Promise.all([from, to].map(async (s) => String(await (await direct(s.server.url)).sendCommand(['CLUSTER', 'MYID']))));
    const client = await clusterClient();
    // Keys in the slots that will move: the lowest slots of the source shard.
    const moving = Array.from({ length: 2000 }, (_, i) => `ct:m${i}`).filter((k) => keySlot(k) < 20).slice(0, 5);
    expect(moving.length).toBeGreaterThan(0);
    expect(await ownerPort(loader, moving[0]!)).toBe(from.runtime.port);
    for (const key of moving) await client.hSet(key, 'f', 'before');
    await promisify(execFile)('redis-cli', ['--cluster', 'reshard', `127.0.0.1:${from.server.port}`, '--cluster-from', ids[0]!, '--cluster-to', ids[1]!,
      '--cluster-slots', '20', '--cluster-yes'], { timeout: 30_000 });
    for (const key of moving) expect(await ownerPort(loader, key)).toBe(to.runtime.port);
    // The migration deleted each key on the source (event `del`) and restored it on the target (`restore`): the
    // trigger fired for both, and its own write was refused as not local on each side (docs/scale-out.md).
    const source = await triggerStats(from.url);
    expect(source['num_failed']).toBeGreaterThanOrEqual(moving.length);
    // The source runs the trigger in the background, racing redis-cli: ASK while the slot is still MIGRATING,
    // MOVED once SETSLOT NODE is done (the runtime asks ROLE before background events, which widens that race).
    expect(String(source['last_error'])).toMatch(/^(ASK|MOVED) \d+ 127\.0\.0\.1:/);
    const importer = await triggerStats(to.url);
    expect(importer['num_failed']).toBeGreaterThanOrEqual(moving.length);
    expect(String(importer['last_error'])).toMatch(/^MOVED \d+ 127\.0\.0\.1:/);
    // Once moved, the keys are served, and captured, on their new shard.
    const target = await direct(to.server.url);
    for (const key of moving) {
      expect(await target.hGet(key, 'f')).toBe('before');
      expect(await target.get(`fired:{${key}}`)).toBe('1');
      await client.hSet(key, 'f', 'after');
      expect(await until(() => target.get(`fired:{${key}}`), (v) => v === '2')).toBe('2');
    }
  });
});

describe('writebehind deploy and start on a cluster', () => {
  it('deploy through one runtime loads the library on every shard and says how many it checked', async () => {
    const printed: string[] = [];
    const deployed = await runDeploy({ redis: cluster.shards[1]!.url, config: 'config/example.json' }, (line) => printed.push(line));
    expect(deployed.shards).toBe(3);
    expect(printed.join('\n')).toContain('on all 3 shards');
    for (const shard of cluster.shards) {
      const client = await direct(shard.url);
      expect(await client.sendCommand(['TFCALL', `${deployed.name}.version`, '0'])).toBe(deployed.version);
    }
    await (await direct(cluster.shards[0]!.url)).sendCommand(['TFUNCTION', 'DELETE', deployed.name]);
  });

  it('start refuses a backing redis-server that is a cluster node, saying what to run instead', async () => {
    await expect(runStart({ redis: cluster.shards[0]!.server.url, port: 0, config: 'config/example.json' }, () => undefined)).rejects.toThrow(
      /is a Redis Cluster node.*writebehind runtime/,
    );
  });
});

describe('a runtime the cluster does not announce', () => {
  it('warns at start that cluster clients will bypass it', async () => {
    const { log, lines } = recordedLog<{ msg?: string; runtimePort?: number }>('warn');
    // Another runtime in front of shard 2's server, on another port, while its own is stopped (one runtime per
    // server: runtime-lease.ts): the server announces the stopped one's port, not this one's.
    await cluster.restartRuntime(2, async () => {
      const extra = await Runtime.start({ redisUrl: cluster.shards[2]!.server.url, port: 0, log });
      try {
        expect(lines).toContainEqual(expect.objectContaining({ runtimePort: extra.port, msg: expect.stringContaining('does not announce this runtime') }));
      } finally {
        await extra.close();
      }
    });
  });
});

describe('a second runtime in front of the same cluster node', () => {
  it('refuses to start, naming the node runtime that holds the node’s lease (one per node, beside its running mark)', async () => {
    const node = await direct(cluster.shards[1]!.server.url);
    // The node's runtime takes its lease once the node serves slots (at its first refresh after the cluster formed).
    const leases = await until(async () => (await node.keys(`${RUNTIME_LEASE_KEY}:*`)) as string[], (keys) => keys.length === 1, 5000);
    const holder = await node.get(leases[0]!);
    expect(holder).toContain(`port ${cluster.shards[1]!.runtime.port}`);
    await expect(Runtime.start({ redisUrl: cluster.shards[1]!.server.url, port: 0 })).rejects.toThrow(`${holder} holds its lease (${leases[0]})`);
    expect(await node.get(leases[0]!)).toBe(holder);
  });
});

describe("a runtime's store on a cluster node", () => {
  // Runs after the resharding test: shard 0's store slot (its lowest) moved to shard 1 with the slots.
  it('a restarted runtime finds its own libraries on its node, also after its store slot was resharded away', async () => {
    const library = LIBRARY.replace('name=clusterlib', 'name=kept');
    expect(await (await direct(cluster.shards[2]!.url)).sendCommand(['TFUNCTION', 'LOAD', 'CONFIG', '{"who":"store"}', library])).toBe('OK');
    for (const index of [0, 1]) {
      await cluster.restartRuntime(index);
      const client = await direct(cluster.shards[index]!.url);
      expect(await client.sendCommand(['TFCALL', 'kept.hello', '0'])).toBe('hello from store');
    }
    expect(await (await direct(cluster.shards[0]!.url)).sendCommand(['TFUNCTION', 'DELETE', 'kept'])).toBe('OK');
  });
});

describe("a peer's load (_rg_internals.function)", () => {
  it('is applied on the runtime that receives it and not sent on, in cluster mode', async () => {
    const library = LIBRARY.replace('name=clusterlib', 'name=peeronly');
    const first = await direct(cluster.shards[0]!.url);
    expect(await first.sendCommand(['_rg_internals.function', 'LOAD', 'CONFIG', '{"who":"peer"}', library])).toBe('OK');
    expect(await first.sendCommand(['TFCALL', 'peeronly.hello', '0'])).toBe('hello from peer');
    for (const shard of cluster.shards.slice(1)) {
      const client = await direct(shard.url);
      await expect(client.sendCommand(['TFCALL', 'peeronly.hello', '0'])).rejects.toThrow('Unknown library peeronly');
    }
    expect(await first.sendCommand(['_rg_internals.function', 'DELETE', 'peeronly'])).toBe('OK');
  });

  it('is refused outside cluster mode, as RedisGears refuses it from clients', async () => {
    const server = await startRedisServer();
    const runtime = await startRuntime(server);
    try {
      const client = await direct(runtime.url);
      await expect(client.sendCommand(['_rg_internals.function', 'LOAD', LIBRARY])).rejects.toThrow('Internal command should only be sent from primary or loaded from AOF');
      expect(await client.sendCommand(['TFUNCTION', 'LIST'])).toEqual([]);
    } finally {
      await runtime.close();
      await server.stop();
    }
  });
});
