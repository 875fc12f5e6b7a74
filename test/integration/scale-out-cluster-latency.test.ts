/**
 * Batching without waiting on a Redis Cluster (3 primaries, a runtime in front of each), as pipeline-latency
 * shows it on one Redis: batch.maxDelayMs is the longest a change waits for its batch while the worker is busy,
 * not a wait every change pays. A worker with nothing of a shard in hand asks that shard's `ready` to cut
 * whatever is open (0) at its next poll, so at low load a change reaches MySQL within a poll and a commit, and
 * changes that come together go out together; and it asks once per poll, as it did with maxDelayMs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chaosHashFields } from '../../bench/chaos/chaos-load.js';
import { CHAOS_PREFIX, CHAOS_TABLE, CHAOS_WRITER, chaosConfig } from '../../bench/chaos/chaos-schema.js';
import { waitFor } from '../../bench/support/wait.js';
import { sleep } from '../../bench/support/sleep.js';
import { deployLibrary } from '../../src/deploy/deploy.js';
import { CLUSTER_SLOTS, keySlot } from '../../src/shared/key-slot.js';
import { partitionKeys } from '../../src/shared/keys.js';
import { MetaField } from '../../src/shared/protocol.js';
import { MysqlBatchWriter } from '../../src/worker/mysql/mysql-batch-writer.js';
import { createMysqlPool } from '../../src/worker/mysql/mysql-pool.js';
import { ClusterStreamClient } from '../../src/worker/redis/cluster-stream-client.js';
import { Worker } from '../../src/worker/worker.js';
import { useChaosCluster } from '../fixtures/chaos-cluster.js';

/** Far longer than the test waits: a change that waited for it would fail the test. */
const MAX_DELAY_MS = 60_000;
const config = { ...chaosConfig(), batch: { size: 1000, maxDelayMs: MAX_DELAY_MS } };

const h = useChaosCluster('cluster_latency');
let worker: Worker;
let mysql: MysqlBatchWriter;
/** Every `ready` call the worker made: when, on which node, with which maxDelayMs. */
const readyCalls: Array<{ at: number; node: string; maxDelayMs: number }> = [];

beforeAll(async () => {
  await deployLibrary({ redisUrl: h.cluster.shards[0]!.url, config });
  mysql = new MysqlBatchWriter({ pool: createMysqlPool({ url: h.db.url }), config });
  await mysql.prepare();
  const connect = async () => {
    const client = await ClusterStreamClient.connectCluster(h.cluster.shards[0]!.url);
    const ready = client.ready.bind(client);
    client.ready = (node, library, writer, maxDelayMs, limit) => {
      readyCalls.push({ at: Date.now(), node, maxDelayMs });
      return ready(node, library, writer, maxDelayMs, limit);
    };
    return client;
  };
  worker = new Worker({ config, batchWriter: mysql, connectRedis: connect, connectCluster: connect, consumer: 'latency' });
  await worker.start();
}, 60_000);

afterAll(async () => {
  await worker?.close();
  await mysql?.close();
});

const rowsOf = async (ids: readonly number[]) => Number((await h.db.query<Array<{ n: number }>>(`SELECT COUNT(*) AS n FROM ${CHAOS_TABLE} WHERE person_id IN (${ids.join(', ')})`))[0]!.n);

/** Batches cut so far in the slot logs of `slots`, each read on the shard that owns it. */
async function batchesCut(slots: readonly number[]): Promise<number> {
  let total = 0;
  for (const slot of slots) {
    const owner = h.servers[await h.cluster.ownerOf(slot)]!;
    total += Number((await owner.hGet(partitionKeys(CHAOS_WRITER, slot, CLUSTER_SLOTS).meta, MetaField.batches)) ?? 0);
  }
  return total;
}

describe('an idle worker on a Redis Cluster', () => {
  it('writes a change at once, without waiting batch.maxDelayMs for a partial batch', { timeout: 30_000 }, async () => {
    const id = 1;
    await h.client.hSet(`${CHAOS_PREFIX}:${id}`, chaosHashFields(id, 1));
    await waitFor('the change in MySQL', async () => (await rowsOf([id])) === 1, 10_000, 20);
  });

  it('writes changes that came together in a few batches, not one each, and the next change again at once', { timeout: 60_000 }, async () => {
    // 200 keys in three slot logs, one on each shard.
    const slots: number[] = [];
    const owners = new Set<number>();
    for (let id = 100; owners.size < h.cluster.shards.length; id++) {
      const slot = keySlot(`${CHAOS_PREFIX}:${id}`);
      const owner = await h.cluster.ownerOf(slot);
      if (owners.has(owner)) continue;
      owners.add(owner);
      slots.push(slot);
    }
    const ids: number[] = [];
    for (let id = 10_000; ids.length < 200; id++) if (slots.includes(keySlot(`${CHAOS_PREFIX}:${id}`))) ids.push(id);
    const before = await batchesCut(slots);
    await Promise.all(ids.map((id) => h.client.hSet(`${CHAOS_PREFIX}:${id}`, chaosHashFields(id, 1))));
    await waitFor('the 200 changes in MySQL', async () => (await rowsOf(ids)) === ids.length, 10_000, 20);
    // Sent at once: cut at the next poll of each shard, the rest (if any) at the one after.
    expect(await batchesCut(slots) - before).toBeLessThanOrEqual(20);
    const next = 2;
    await h.client.hSet(`${CHAOS_PREFIX}:${next}`, chaosHashFields(next, 1));
    await waitFor('the next change in MySQL', async () => (await rowsOf([next])) === 1, 10_000, 20);
  });

  it('asks each primary\'s `ready` once per poll while idle, as with maxDelayMs: no call more for cutting at once', { timeout: 30_000 }, async () => {
    // Poll interval: min(blockMs, maxDelayMs), blockMs min(maxDelayMs, 1000).
    const pollMs = 1000;
    await sleep(2 * pollMs); // whatever the cases before left to do is done
    const from = Date.now();
    await sleep(5 * pollMs);
    const calls = readyCalls.filter((call) => call.at >= from && call.at < from + 5 * pollMs);
    const primaries = new Set(calls.map((call) => call.node));
    expect(primaries.size).toBe(h.cluster.shards.length);
    for (const node of primaries) expect(calls.filter((call) => call.node === node).length, node).toBeLessThanOrEqual(6);
    // Idle: every poll asked with 0.
    expect(calls.every((call) => call.maxDelayMs === 0)).toBe(true);
  });
});
