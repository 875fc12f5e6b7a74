/**
 * The library on a real Redis Cluster (3 primaries, a runtime in front of each): every key's change is captured
 * into the capture log of its own slot, on its own shard (docs/scale-out.md, on a cluster a partition is a
 * slot); each log is cut on its shard; `ready` lists a node's logs with batches to commit; and a slot moved in
 * one MIGRATE takes its log along, its migration's own `del`/`restore` events captured as nothing.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, createCluster } from 'redis';
import { deployLibrary } from '../../src/deploy/deploy.js';
import { CLUSTER_SLOTS, keySlot } from '../../src/shared/key-slot.js';
import { partitionKeys, writerKeys } from '../../src/shared/keys.js';
import { testConfig } from '../fixtures/library-configs.js';
import { readStream } from '../fixtures/library-harness.js';
import { startRuntimeCluster, type ClusterShard, type RuntimeCluster } from '../helpers/redis-cluster.js';
import { until } from '../helpers/until.js';

const run = promisify(execFile);
const WRITER = 'PersonsWriteBehind';
const BATCH_SIZE = 3;

type Cluster = ReturnType<typeof createCluster>;
type Client = ReturnType<typeof createClient>;

let cluster: RuntimeCluster;
let client: Cluster;
const directs = new Map<ClusterShard, Client>();

const slotLog = (key: string) => partitionKeys(WRITER, keySlot(key), CLUSTER_SLOTS);

/** A plain connection to a shard's redis-server (not its runtime): what an operator's tools use. */
async function server(shard: ClusterShard): Promise<Client> {
  const open = directs.get(shard);
  if (open !== undefined) return open;
  const direct = createClient({ url: shard.server.url });
  direct.on('error', () => undefined);
  await direct.connect();
  directs.set(shard, direct);
  return direct;
}

/** A stream's records, decoded (format 2 as its fields), read on the shard that owns it. */
async function records(stream: string): Promise<{ id: string; fields: Record<string, string> }[]> {
  const shard = cluster.shards[await cluster.ownerOf(keySlot(stream))]!;
  return readStream(await server(shard), stream);
}

beforeAll(async () => {
  cluster = await startRuntimeCluster(3);
  await deployLibrary({ redisUrl: cluster.shards[0]!.url, config: testConfig({ batchSize: BATCH_SIZE }) });
  client = createCluster({ rootNodes: [{ url: cluster.shards[0]!.url }] });
  client.on('error', () => undefined);
  await client.connect();
}, 60_000);

afterAll(async () => {
  await client?.close().catch(() => undefined);
  for (const direct of directs.values()) await direct.close().catch(() => undefined);
  await cluster?.close();
}, 30_000);

describe('the library on a Redis Cluster', () => {
  it("captures every key's changes, in order, into its own slot's log on its own shard, and cuts them there", async () => {
    const keys = Array.from({ length: 60 }, (_, i) => `person:${i}`);
    for (const key of keys) await client.hSet(key, 'age', '1');
    await client.hSet('person:7', 'age', '2');
    const shards = new Set<number>();
    for (const key of keys) {
      const log = slotLog(key);
      expect(keySlot(log.changes)).toBe(keySlot(key));
      expect((await records(log.changes)).map((r) => r.fields['key']), log.changes).toContain(key);
      shards.add(await cluster.ownerOf(keySlot(key)));
    }
    expect(shards.size).toBe(3);
    const own = await records(slotLog('person:7').changes);
    expect(own.filter((r) => r.fields['key'] === 'person:7').map((r) => r.fields['c:age'])).toEqual(['1', '2']);
    // Nothing goes to the writer's unpartitioned log, and no capture failed anywhere.
    expect(await client.exists(writerKeys(WRITER).changes)).toBe(0);
    for (const shard of cluster.shards) expect(await failedCaptures(shard)).toBe(0);
  });

  it('`ready` on each primary cuts its due logs and lists those with batches to commit, and only its own', async () => {
    const listed = new Set<string>();
    for (const [index, shard] of cluster.shards.entries()) {
      const direct = await server(shard);
      const { streams, more } = await ready(shard);
      expect(more, `shard ${index}`).toBe(false);
      expect(streams.length, `shard ${index}`).toBeGreaterThan(0);
      for (const stream of streams) {
        expect(await direct.exists(stream), stream).toBe(1);
        const log = partitionKeys(WRITER, keySlot(stream), CLUSTER_SLOTS);
        expect(log.changes).toBe(stream);
        expect(await direct.xLen(log.batches)).toBeGreaterThan(0);
        listed.add(stream);
      }
    }
    // Every log with records now has a batch (maxDelayMs 0 cut what was open) and is listed by its shard.
    for (let i = 0; i < 60; i++) expect(listed.has(slotLog(`person:${i}`).changes)).toBe(true);
  });

  it("a slot moved in one MIGRATE takes its log along: the migration's del/restore add nothing, later changes follow in the same log", async () => {
    const key = 'person:7';
    const slot = keySlot(key);
    const log = slotLog(key);
    const from = cluster.shards[await cluster.ownerOf(slot)]!;
    const to = cluster.shards.find((shard) => shard !== from)!;
    const before = await records(log.changes);
    const source = await server(from);
    const target = await server(to);
    await cluster.moveSlot(slot, cluster.shards.indexOf(to));
    await until(() => cluster.ownerOf(slot), (index) => cluster.shards[index] === to, 5000, 50);

    await client.hSet(key, 'age', '3');
    const after = await until(() => readStream(target, log.changes), (entries) => entries.length > before.length, 5000, 50);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.slice(before.length).map((r) => [r.fields['key'], r.fields['c:age']])).toEqual([[key, '3']]);
    expect(await source.sendCommand(['CLUSTER', 'COUNTKEYSINSLOT', String(slot)])).toBe(0);
    for (const shard of cluster.shards) expect(await failedCaptures(shard)).toBe(0);
    // The log is cut on its new shard, after its migrated meta `cut`.
    await ready(to);
    const batches = await target.xRange(log.batches, '-', '+');
    expect(batches.at(-1)!.message['to']).toBe(after.at(-1)!.id);
    expect(batches.at(-1)!.message['from']).toBe(batches.at(-2)?.message['to'] ?? '0-0');
  });

  it('`ready` with 5,000 due logs on a shard cuts and lists them a chunk per call: every log cut, no call long', async () => {
    const shard = cluster.shards[1]!;
    const slots = await slotsOf(shard);
    // A key in each of 5,000 slots of the shard: 5,000 capture logs with one open record each.
    const keys: string[] = [];
    const taken = new Set<number>();
    for (let i = 0; keys.length < 5000; i++) {
      const key = `person:chunk${i}`;
      const slot = keySlot(key);
      if (!slots.has(slot) || taken.has(slot)) continue;
      taken.add(slot);
      keys.push(key);
    }
    for (let i = 0; i < keys.length; i += 200) await Promise.all(keys.slice(i, i + 200).map((key) => client.hSet(key, 'age', '5')));
    const direct = await server(shard);
    const listed = new Set<string>();
    const durations: number[] = [];
    for (let more = true; more; ) {
      const started = performance.now();
      const answer = await ready(shard, 100);
      durations.push(performance.now() - started);
      expect(answer.streams.length).toBeLessThanOrEqual(200);
      for (const stream of answer.streams) listed.add(stream);
      more = answer.more;
      expect(durations.length, 'calls').toBeLessThan(1000);
    }
    // At least one call per 100 logs, and none holds the shard's lock for long: a single call cutting every log
    // takes seconds (3.4–5.2 s for ~3,400 logs in the cluster-drain bench at load average 6–10); with chunks the
    // longest was 60 ms of 1,348 ms at load average 9. Bounded by a share of the total, which the machine's load
    // stretches alike, and loosely in ms.
    expect(durations.length).toBeGreaterThanOrEqual(50);
    const longest = Math.max(...durations);
    const total = durations.reduce((sum, ms) => sum + ms, 0);
    expect(longest, `longest of ${durations.length} calls (total ${total.toFixed(0)} ms)`).toBeLessThan(Math.min(2000, total / 3));
    // Every log was cut (its last batch ends at its last record) and listed.
    for (const key of keys) {
      const log = slotLog(key);
      const [record] = await direct.xRevRange(log.changes, '+', '-', { COUNT: 1 });
      const batches = await direct.xRange(log.batches, '-', '+');
      expect(batches.at(-1)?.message['to'], log.changes).toBe(record!.id);
      expect(listed.has(log.changes), log.changes).toBe(true);
    }
  }, 180_000);

  it('`committed_many` records the batches of its own shard\'s logs as `committed` does, and answers null for a log of another shard', async () => {
    const key = 'person:many1';
    await client.hSet(key, 'age', '8');
    const log = slotLog(key);
    const owner = cluster.shards[await cluster.ownerOf(keySlot(key))]!;
    const other = cluster.shards.find((shard) => shard !== owner)!;
    while ((await ready(owner)).more);
    const direct = await server(owner);
    const [descriptor] = await direct.xRevRange(log.batches, '+', '-', { COUNT: 1 });
    const args = [log.changes, log.batches, descriptor!.id, descriptor!.message['to']!, '1'];
    const many = async (shard: ClusterShard) => {
      const node = await client.nodeClient(client.masters.find((master) => master.port === shard.runtime.port)!);
      return node.sendCommand(['TFCALL', 'WriteBehind.committed_many', '0', ...args, ...args]);
    };
    expect(await many(other)).toEqual([null, null]);
    expect(await direct.hGet(log.meta, 'committed')).not.toBe(descriptor!.message['to']);
    expect(await many(owner)).toEqual([descriptor!.message['to'], descriptor!.message['to']]);
    expect(await direct.hGet(log.meta, 'committed')).toBe(descriptor!.message['to']);
    // Trimmed through the batch's last record, the descriptor deleted (an earlier test's may remain).
    expect(await direct.xLen(log.changes)).toBe(0);
    expect(await direct.xRange(log.batches, descriptor!.id, descriptor!.id)).toEqual([]);
  });

  it('`adopt` takes the logs the sweep names into the index of a restarted runtime: a batch cut before is listed, open records it never counted are cut at once', async () => {
    const index = 2;
    const shard = cluster.shards[index]!;
    const slots = await slotsOf(shard);
    const [cutKey, openKey] = Array.from({ length: 1000 }, (_, i) => `person:restart${i}`).filter((key) => slots.has(keySlot(key))).slice(0, 2) as [string, string];
    await client.hSet(cutKey, 'age', '6');
    while ((await ready(shard)).more);
    await client.hSet(openKey, 'age', '7');
    const direct = await server(shard);
    const batchesBefore = await direct.xLen(slotLog(openKey).batches);
    await cluster.restartRuntime(index);
    await client.close();
    client = createCluster({ rootNodes: [{ url: cluster.shards[0]!.url }] });
    client.on('error', () => undefined);
    await client.connect();
    // The new instance's index is empty: the batch cut before the restart is not listed.
    expect((await ready(shard)).streams).not.toContain(slotLog(cutKey).changes);
    // maxDelayMs far off: the records the instance did not count are cut at once all the same.
    const named = await adopt(shard, [slotLog(cutKey).changes, slotLog(openKey).changes], 600_000);
    expect(named.sort()).toEqual([slotLog(cutKey).changes, slotLog(openKey).changes].sort());
    const [record] = await direct.xRevRange(slotLog(openKey).changes, '+', '-', { COUNT: 1 });
    expect(await direct.xLen(slotLog(openKey).batches)).toBe(batchesBefore + 1);
    expect((await direct.xRevRange(slotLog(openKey).batches, '+', '-', { COUNT: 1 }))[0]!.message['to']).toBe(record!.id);
    // Listed by the next polls too (it is in the index now).
    let listedAgain = false;
    for (let pass = 0; pass < 2 && !listedAgain; pass++) listedAgain = (await ready(shard)).streams.includes(slotLog(cutKey).changes);
    expect(listedAgain).toBe(true);
  }, 60_000);

  it('`adopt` on the new shard lists a log that came with its slot and a batch still to commit, also once that shard took its count over with nothing open', async () => {
    // A batch cut on the source and not committed (the worker holding it was SIGKILLed, say).
    const key = 'person:moved-uncommitted';
    const slot = keySlot(key);
    const log = slotLog(key);
    await client.hSet(key, 'age', '8');
    const from = cluster.shards[await cluster.ownerOf(slot)]!;
    while ((await ready(from)).more);
    const [descriptor] = await (await server(from)).xRevRange(log.batches, '+', '-', { COUNT: 1 });
    expect(descriptor!.message['to']).toBe((await records(log.changes)).at(-1)!.id);
    const to = cluster.shards.find((shard) => shard !== from)!;
    await cluster.moveSlot(slot, cluster.shards.indexOf(to));
    await until(() => cluster.ownerOf(slot), (index) => cluster.shards[index] === to, 5000, 50);
    // The new shard's library takes the log's count over: its stream trigger does when its read of the restored
    // log comes after the move completed (every record at or before meta `cut`: none open); a `cut` far from
    // due does the same when that read met the slot still importing.
    expect(await client.sendCommand(log.changes, false, ['TFCALL', 'WriteBehind.cut', '1', log.changes, '600000'])).toBeNull();
    expect(await (await server(to)).hGet(log.meta, 'committed')).toBeNull();
    // The sweep the move starts names the log to `adopt`: its batch is to commit, so it is listed (else no
    // worker would look at the log again until a new record of it is cut).
    expect(await adopt(to, [log.changes], 600_000)).toEqual([log.changes]);
    expect((await ready(to)).streams).toContain(log.changes);
  });
});

/** `ready` on a shard's primary (maxDelayMs 0), through the cluster client's connection to its runtime. */
async function ready(shard: ClusterShard, limit = 1000): Promise<{ more: boolean; streams: string[] }> {
  const node = await client.nodeClient(client.masters.find((master) => master.port === shard.runtime.port)!);
  const [more, streams] = (await node.sendCommand(['TFCALL', 'WriteBehind.ready', '0', WRITER, '0', String(limit)])) as [number, string[]];
  return { more: more === 1, streams };
}

/** `adopt` of `streams` on a shard's primary (maxDelayMs `maxDelayMs`): those with batches to commit. */
async function adopt(shard: ClusterShard, streams: readonly string[], maxDelayMs = 0): Promise<string[]> {
  const node = await client.nodeClient(client.masters.find((master) => master.port === shard.runtime.port)!);
  return (await node.sendCommand(['TFCALL', 'WriteBehind.adopt', '0', WRITER, String(maxDelayMs), ...streams])) as string[];
}

/** The slots a shard's server serves (CLUSTER SLOTS). */
async function slotsOf(shard: ClusterShard): Promise<Set<number>> {
  const ranges = (await (await server(shard)).sendCommand(['CLUSTER', 'SLOTS'])) as [number, number, [string, number]][];
  const slots = new Set<number>();
  for (const [from, to, [, port]] of ranges) if (port === shard.runtime.port) for (let slot = from; slot <= to; slot++) slots.add(slot);
  return slots;
}

/** The capture trigger's `num_failed` on a shard (TFUNCTION LIST through its runtime). */
async function failedCaptures(shard: ClusterShard): Promise<number> {
  const { stdout } = await run('redis-cli', ['-p', String(shard.runtime.port), '--json', 'TFUNCTION', 'LIST', 'LIBRARY', 'WriteBehind', 'v']);
  const failed = [...stdout.matchAll(/"num_failed":\s*(\d+)/g)].map((match) => Number(match[1]));
  return failed.reduce((sum, n) => sum + n, 0);
}
