/**
 * The runtime in front of replicas (3 primaries and 3 replicas on loopback, one runtime each): the cluster
 * advertises the replicas' runtimes, a replica's runtime holds the libraries but fires no keyspace or stream
 * trigger for the writes it replicates (RedisGears runs none on a replica), and after a failover the promoted
 * node's runtime fires them and resumes the stream triggers from the positions its former primary saved.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, createCluster } from 'redis';
import { keySlot } from '../../src/shared/key-slot.js';
import { runtimeRunningKeyOfNode, runtimeUncleanStopsKeyOfNode } from '../../src/shared/keys.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { clusterStoreKeys } from '../../src/runtime/cluster/cluster-store-keys.js';
import { LibraryStore } from '../../src/runtime/library-host/library-store.js';
import { SyncRedis } from '../../src/runtime/sync-redis/sync-redis.js';
import { connectTestClient } from '../helpers/redis-client.js';
import { startRuntimeCluster, type ClusterNode, type RuntimeCluster } from '../helpers/redis-cluster.js';
import { until } from '../helpers/until.js';

const LIBRARY = `#!js api_version=1.0 name=replicalib
redis.registerFunction('hello', () => 'hello', { flags: [redis.functionFlags.NO_WRITES] });
redis.registerKeySpaceTrigger('seen', 'rp:', (client, data) => {
  client.call('incr', 'fired:{' + data.key + '}');
  client.call('xadd', 'rlog:{' + data.key + '}', '*', 'key', data.key);
});
redis.registerStreamTrigger('logged', 'rlog:', (client, data) => {
  client.call('incr', 'streamed:' + data.stream_name);
});`;

type Client = ReturnType<typeof createClient>;

let cluster: RuntimeCluster;
const restarted: Runtime[] = [];
const clients: Array<{ close(): Promise<unknown> }> = [];

/** A client of one node, closed after the file. */
const direct = (url: string): Promise<Client> => connectTestClient(url, clients);

/** A connection that reads a replica's keys (READONLY: a cluster replica redirects reads otherwise). */
async function readReplica(url: string): Promise<Client> {
  const client = await direct(url);
  await client.sendCommand(['READONLY']);
  return client;
}

async function clusterClient() {
  const client = createCluster({ rootNodes: [{ url: cluster.shards[1]!.url }] });
  client.on('error', () => undefined);
  await client.connect();
  clients.push({ close: () => client.close() });
  return client;
}

/** The runtime port that serves `key`'s slot now, from CLUSTER SLOTS through a runtime. */
async function ownerPort(key: string): Promise<number> {
  const slots = (await (await direct(cluster.shards[1]!.url)).sendCommand(['CLUSTER', 'SLOTS'])) as [number, number, [string, number]][];
  const slot = keySlot(key);
  return Number(slots.find(([from, to]) => slot >= from && slot <= to)![2][1]);
}

/** The counters of the library's keyspace trigger and stream trigger on one runtime (TFUNCTION LIST vv). */
async function triggerStats(url: string): Promise<{ keyspace: Record<string, unknown>; stream: Record<string, unknown> }> {
  const [library] = (await (await direct(url)).sendCommand(['TFUNCTION', 'LIST', 'vv'])) as unknown[][];
  const fields = (flat: unknown[]) => Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [String(flat[2 * i]), flat[2 * i + 1]]));
  const lib = fields(library!);
  return { keyspace: fields((lib['keyspace_triggers'] as unknown[][])[0]!), stream: fields((lib['stream_triggers'] as unknown[][])[0]!) };
}

function replicaOf(index: number): ClusterNode {
  return cluster.shards[index]!.replica!;
}

beforeAll(async () => {
  cluster = await startRuntimeCluster(3, { replicas: true });
}, 60_000);

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  for (const runtime of restarted) await runtime.close();
  await cluster?.close();
}, 30_000);

describe('runtimes in front of replicas', () => {
  it("the cluster names each replica's runtime, not its redis-server", async () => {
    const nodes = String(await (await direct(cluster.shards[0]!.url)).sendCommand(['CLUSTER', 'NODES']));
    const replicaPorts = nodes.split('\n').filter((line) => line.split(' ')[2]?.includes('slave')).map((line) => Number(/:(\d+)@/.exec(line)![1]));
    expect(new Set(replicaPorts)).toEqual(new Set([0, 1, 2].map((i) => replicaOf(i).runtime.port)));
  });

  it('a replica runtime holds the libraries but fires no keyspace or stream trigger for the writes it replicates; reads pass, writes get MOVED', async () => {
    expect(await (await direct(cluster.shards[0]!.url)).sendCommand(['TFUNCTION', 'LOAD', LIBRARY])).toBe('OK');
    for (const index of [0, 1, 2]) expect(await (await direct(replicaOf(index).url)).sendCommand(['TFCALL', 'replicalib.hello', '0'])).toBe('hello');
    const client = await clusterClient();
    const keys = Array.from({ length: 30 }, (_, i) => `rp:${i}`);
    for (const key of keys) await client.hSet(key, 'f', 'v1');
    for (const key of keys) expect(await until(() => client.get(`streamed:rlog:{${key}}`), (v) => v === '1')).toBe('1');
    // Every replica has received the primaries' trigger writes, and had time to act on them (it must not).
    for (const index of [0, 1, 2]) {
      const replica = await readReplica(replicaOf(index).server.url);
      const held = [];
      for (const key of keys) if ((await ownerPort(key)) === cluster.shards[index]!.runtime.port) held.push(key);
      expect(held.length).toBeGreaterThan(0);
      for (const key of held) expect(await until(() => replica.get(`streamed:rlog:{${key}}`), (v) => v === '1')).toBe('1');
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const key of held) {
        expect(await replica.get(`fired:{${key}}`)).toBe('1');
        expect(await replica.xLen(`rlog:{${key}}`)).toBe(1);
      }
      const stats = await triggerStats(replicaOf(index).url);
      expect(stats.keyspace['num_trigger']).toBe(0);
      expect(stats.stream['streams']).toEqual([]);
    }
    // Reads pass through the replica's runtime (READONLY, as a cluster client reading replicas sends it); a
    // write gets the server's MOVED, naming the primary's runtime.
    const key = keys[0]!;
    const owner = await ownerPort(key);
    const shard = cluster.shards.find((s) => s.runtime.port === owner)!;
    const reader = await direct(shard.replica!.url);
    expect(await reader.sendCommand(['READONLY'])).toBe('OK');
    expect(await reader.hGet(key, 'f')).toBe('v1');
    await expect(reader.hSet(key, 'f', 'v2')).rejects.toThrow(`MOVED ${keySlot(key)} 127.0.0.1:${owner}`);
  });

  it("a store write on a replica whose runtime has not seen the demotion yet stores nothing, and the connection's next reply is its own", async () => {
    // The replicas' runtimes started in front of primaries (the cluster is formed after them): a TFUNCTION LOAD
    // reaching one before its role poll saw the demotion wrote the store there, got MOVED, relocated to the
    // primary's store, wrote every library again, got MOVED... until the stack overflowed: the load answered
    // RangeError, and the sync connection, cut short inside a call, read each reply as the next call's.
    const redis = await SyncRedis.create(replicaOf(1).server.url);
    clients.push({ close: () => redis.close() });
    redis.call(['READONLY']);
    let store: LibraryStore | undefined;
    store = new LibraryStore(redis, clusterStoreKeys(redis), () => store!.saveLibrary('replicalib', { code: LIBRARY, config: null, user: 'default' }));
    expect(() => store!.saveLibrary('replicalib', { code: LIBRARY, config: null, user: 'default' })).not.toThrow();
    expect(redis.call(['ECHO', 'own'])).toEqual({ type: 'blob', value: Buffer.from('own') });
  });

  it("after CLUSTER FAILOVER the promoted node's runtime fires the triggers and resumes the stream trigger where its primary left it; the demoted one's fires none, and its restarted runtime finds the store it took over", async () => {
    const [primary, replica] = [cluster.shards[0]!, replicaOf(0)];
    const client = await clusterClient();
    const before = Array.from({ length: 200 }, (_, i) => `rp:${i}`);
    const onShard: string[] = [];
    for (const key of before) if ((await ownerPort(key)) === primary.runtime.port) onShard.push(key);
    const earlier = onShard.filter((key) => Number(key.slice(3)) < 30);
    const later = onShard.filter((key) => Number(key.slice(3)) >= 30).slice(0, 10);
    expect(earlier.length).toBeGreaterThan(0);
    expect(later.length).toBeGreaterThan(0);
    // The positions the primary's stream trigger saved have reached the replica.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const demotedBefore = await triggerStats(primary.url);

    await promisify(execFile)('redis-cli', ['-p', String(replica.server.port), 'CLUSTER', 'FAILOVER']);
    const promoted = await direct(replica.server.url);
    await until(() => promoted.sendCommand(['ROLE']), (role) => (role as unknown as string[])[0] === 'master', 10_000);
    await until(() => ownerPort(later[0]!), (port) => port === replica.runtime.port, 10_000);

    for (const key of later) await client.hSet(key, 'f', 'v1');
    for (const key of later) {
      expect(await until(() => promoted.get(`fired:{${key}}`), (v) => v === '1')).toBe('1');
      expect(await until(() => promoted.get(`streamed:rlog:{${key}}`), (v) => v === '1')).toBe('1');
    }
    // The earlier streams were not delivered again: the promoted runtime started from the saved positions.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const key of earlier) expect(await promoted.get(`streamed:rlog:{${key}}`)).toBe('1');
    const stats = await triggerStats(replica.url);
    expect(stats.keyspace['num_trigger']).toBe(later.length);
    expect(stats.keyspace['num_failed']).toBe(0);
    // The demoted primary's runtime replicated those writes and fired nothing for them.
    const demoted = await readReplica(primary.server.url);
    for (const key of later) expect(await until(() => demoted.get(`streamed:rlog:{${key}}`), (v) => v === '1')).toBe('1');
    expect((await triggerStats(primary.url)).keyspace['num_trigger']).toBe(demotedBefore.keyspace['num_trigger']);

    // The promoted node took its former primary's store over under its own id: a restarted runtime finds it.
    const id = String(await promoted.sendCommand(['CLUSTER', 'MYID']));
    expect((await promoted.keys(`__writebehind_runtime__:libraries:*`)).map((key) => key.split(':')[2])).toEqual([id]);
    // The promoted node's runtime marked itself running, under its own id and its store's tag (docs/runtime.md,
    // unclean stops); a clean restart counts no unclean stop.
    const [store] = await promoted.keys(`__writebehind_runtime__:libraries:${id}:*`);
    const tag = /\{(.*)\}$/.exec(store!)![1]!;
    expect(await until(() => promoted.get(runtimeRunningKeyOfNode(id, tag)), (mark) => mark !== null)).not.toBeNull();
    expect(await promoted.get(runtimeUncleanStopsKeyOfNode(id, tag))).toBe('0');
    await replica.runtime.close();
    replica.runtime = await Runtime.start({ redisUrl: replica.server.url, port: replica.runtime.port });
    restarted.push(replica.runtime);
    expect(await promoted.get(runtimeUncleanStopsKeyOfNode(id, tag))).toBe('0');
    expect(await promoted.get(runtimeRunningKeyOfNode(id, tag))).not.toBeNull();
    expect(await (await direct(replica.url)).sendCommand(['TFCALL', 'replicalib.hello', '0'])).toBe('hello');

    // The demoted node's runtime let its lease go with the primary role (its refresh got MOVED): it closes cleanly.
    const errors: unknown[] = [];
    primary.runtime.on('error', (error) => void errors.push(error));
    await primary.runtime.close();
    expect(errors).toEqual([]);
  });
});
