/**
 * Group commit on a real Redis Cluster (3 primaries, a runtime in front of each): the batches of many slot logs,
 * on every shard, are written in shared MySQL transactions (counted at the batch writer a worker is given), and
 * a worker SIGKILLed after such a transaction committed and before the library's `committed` calls is replayed
 * without applying anything twice (every application is recorded by the chaos schema's triggers).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chaosHashFields } from '../../bench/chaos/chaos-load.js';
import { clusterBacklog } from '../../bench/chaos/cluster-view.js';
import { APPLIED_TABLE, CHAOS_PREFIX, CHAOS_TABLE, CHAOS_WRITER, chaosConfig } from '../../bench/chaos/chaos-schema.js';
import { writeConfigFile } from '../../bench/support/bench-config.js';
import { startCliProcess } from '../../bench/support/cli-process.js';
import { callsBetween, commandCalls } from '../../bench/support/shard-probe.js';
import { waitFor } from '../../bench/support/wait.js';
import { CLUSTER_SLOTS, keySlot } from '../../src/shared/key-slot.js';
import { partitionKeys, writerKeys } from '../../src/shared/keys.js';
import { LibraryFunction } from '../../src/shared/protocol.js';
import type { BatchWriter } from '../../src/worker/batch-writer.js';
import { MysqlBatchWriter } from '../../src/worker/mysql/mysql-batch-writer.js';
import { createMysqlPool } from '../../src/worker/mysql/mysql-pool.js';
import { ClusterStreamClient } from '../../src/worker/redis/cluster-stream-client.js';
import { Worker } from '../../src/worker/worker.js';
import { useChaosCluster } from '../fixtures/chaos-cluster.js';

const h = useChaosCluster('cluster_group');

/** Writes keys `ids` (one HSET each, version 1) and returns their slot logs' capture streams. */
async function writeKeys(ids: readonly number[]): Promise<Set<string>> {
  await Promise.all(ids.map((id) => h.client.hSet(`${CHAOS_PREFIX}:${id}`, chaosHashFields(id, 1))));
  return new Set(ids.map((id) => partitionKeys(CHAOS_WRITER, keySlot(`${CHAOS_PREFIX}:${id}`), CLUSTER_SLOTS).changes));
}

const rowCount = async (ids: readonly number[]) => Number((await h.db.query<Array<{ n: number }>>(`SELECT COUNT(*) AS n FROM ${CHAOS_TABLE} WHERE person_id IN (${ids.join(', ')})`))[0]!.n);

describe('group commit of slot logs on a Redis Cluster', () => {
  it('the batches of many slot logs on every shard commit in a few shared MySQL transactions, not one per log', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => i + 1);
    const logs = await writeKeys(ids);
    expect(logs.size).toBeGreaterThan(50);
    const shards = new Set(await Promise.all(ids.map((id) => h.cluster.ownerOf(keySlot(`${CHAOS_PREFIX}:${id}`)))));
    expect(shards.size).toBe(3);

    const mysql = new MysqlBatchWriter({ pool: createMysqlPool({ url: h.db.url }), config: chaosConfig() });
    await mysql.prepare();
    // Every transaction the worker commits, with the logs in it.
    const committed: string[][] = [];
    const counting: BatchWriter = {
      write: async (batch, hooks) => {
        const outcome = await mysql.write(batch, hooks);
        if (outcome.veto === undefined) committed.push([batch.stream]);
        return outcome;
      },
      writeMany: async (batches, hooks) => {
        const outcome = await mysql.writeMany(batches, hooks);
        if (outcome.veto === undefined) committed.push(batches.map((batch) => batch.stream));
        return outcome;
      },
      close: () => mysql.close(),
    };
    // The library's `committed` calls, per log (`committed`) and per shard (`committed_many`).
    let perLog = 0;
    let perShard = 0;
    const connect = async () => {
      const client = await ClusterStreamClient.connectCluster(h.cluster.shards[0]!.url);
      const callFunction = client.callFunction.bind(client);
      const callOnNode = client.callOnNode.bind(client);
      client.callFunction = (library, fn, keys, args) => {
        if (fn === LibraryFunction.committed) perLog++;
        return callFunction(library, fn, keys, args);
      };
      client.callOnNode = (node, library, fn, args) => {
        if (fn === LibraryFunction.committedMany) perShard++;
        return callOnNode(node, library, fn, args);
      };
      return client;
    };
    const worker = new Worker({ config: chaosConfig(), batchWriter: counting, connectRedis: connect, connectCluster: connect, consumer: 'group' });
    const callsBefore = await Promise.all(h.servers.map((server) => commandCalls([server])));
    try {
      await worker.start();
      await waitFor('every key in MySQL', async () => (await rowCount(ids)) === ids.length, 30_000, 100);
      await waitFor('every capture log to drain', async () => (await clusterBacklog(h.servers)) === 0, 10_000, 100);
    } finally {
      await worker.close();
      await mysql.close();
    }
    const written = committed.flat();
    expect(new Set(written)).toEqual(logs);
    expect(written.length).toBe(logs.size); // each log's batch committed once
    // Per log there would be one transaction each; shared, a handful.
    expect(committed.length).toBeLessThanOrEqual(logs.size / 4);
    expect(Math.max(...committed.map((streams) => streams.length))).toBeGreaterThan(10);
    // The logs of a transaction are marked `committed` with a call per shard, not one each.
    expect(perLog).toBe(0);
    expect(perShard).toBeGreaterThan(0);
    expect(perShard).toBeLessThanOrEqual(3 * committed.length);
    // What a slot log costs its shard (commands the servers ran): the group made once (by the library, at the
    // log's first cut; not again by the worker), the descriptors read with two XREADGROUPs (own pending, new
    // ones; none after the commit: the ready index lists the log again if it gets another batch). The shard of
    // the writer's unpartitioned log `{W}`, whose loop the worker runs beside (legacy-drain.ts, blocking reads
    // every blockMs), is left out of the reads; its one group is the one more.
    const legacyShard = await h.cluster.ownerOf(keySlot(writerKeys(CHAOS_WRITER).batches));
    let groups = 0;
    let reads = 0;
    let readLogs = 0;
    for (const [index, server] of h.servers.entries()) {
      const calls = new Map(callsBetween(callsBefore[index]!, await commandCalls([server])));
      groups += calls.get('xgroup|create') ?? 0;
      if (index === legacyShard) continue;
      reads += calls.get('xreadgroup') ?? 0;
      for (const log of logs) if ((await h.cluster.ownerOf(keySlot(log))) === index) readLogs++;
    }
    expect(groups).toBeLessThanOrEqual(logs.size + 1);
    expect(readLogs).toBeGreaterThan(10);
    expect(reads).toBeLessThanOrEqual(2 * readLogs);
  }, 60_000);

  it('exactly-once: a worker SIGKILLed after a shared transaction committed, before `committed`, is replayed without a second application', async () => {
    const first = 1001;
    const group = Array.from({ length: 11 }, (_, i) => 1002 + i);
    const slow = [first, group[0]!];
    // A slow row in each transaction: the first keeps the worker busy while the group's logs queue up behind
    // it (so they share the next transaction), the second while the group's metas are broken behind that one.
    await h.db.query(`CREATE TRIGGER chaos_slow BEFORE INSERT ON ${CHAOS_TABLE} FOR EACH ROW SET NEW.age = IF(NEW.person_id IN (${slow.join(', ')}), NEW.age + 0 * SLEEP(2), NEW.age)`);
    try {
      const configFile = writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-cluster-group-')), chaosConfig());
      const start = () => startCliProcess(['worker', '--redis', h.cluster.shards[0]!.url, '--mysql', h.db.url, '--config', configFile, '--consumer', 'eo']);
      const inserting = async () => Number((await h.db.query<Array<{ n: number }>>("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'INSERT INTO%'", [h.db.name]))[0]!.n) > 0;
      const [firstLog] = await writeKeys([first]);
      let worker = start();
      h.workers.push(worker);
      await waitFor('the first transaction\'s INSERT', inserting, 20_000, 20);
      const logs = await writeKeys(group);
      expect(logs.size).toBeGreaterThan(8);
      await waitFor('the first row in MySQL', async () => (await rowCount([first])) === 1, 10_000, 20);
      const firstOwner = h.servers[await h.cluster.ownerOf(keySlot(`${CHAOS_PREFIX}:${first}`))]!;
      await waitFor('the first log committed in Redis', async () => (await firstOwner.hGet(firstLog!.replace('wb:changes:', 'wb:meta:'), 'committed')) !== null, 10_000, 20);
      await waitFor('the group\'s INSERT', inserting, 10_000, 20);
      // The group's `committed` calls now fail until its metas are back (a string where the hash was: WRONGTYPE);
      // the loops read them before they wrote.
      const metas = await Promise.all(group.map(async (id) => {
        const slot = keySlot(`${CHAOS_PREFIX}:${id}`);
        const owner = h.servers[await h.cluster.ownerOf(slot)]!;
        const key = partitionKeys(CHAOS_WRITER, slot, CLUSTER_SLOTS).meta;
        const fields = await owner.hGetAll(key);
        await owner.multi().del(key).set(key, 'not a hash').exec();
        return { owner, key, fields };
      }));
      await waitFor('the group in MySQL', async () => (await rowCount(group)) === group.length, 15_000, 20);
      worker.signal('SIGKILL');
      await worker.exited;
      for (const { owner, key, fields } of metas) await owner.multi().del(key).hSet(key, fields).exec();
      // Committed in MySQL, not in Redis: every log of the group still holds its records.
      for (const { owner, key, fields } of metas) {
        expect(fields['committed'], key).toBeUndefined();
        expect(await owner.xLen(key.replace('wb:meta:', 'wb:changes:')), key).toBeGreaterThan(0);
      }

      worker = start(); // same consumer: replays its own pending batches at once
      h.workers.push(worker);
      await waitFor('every capture log to drain', async () => (await clusterBacklog(h.servers)) === 0, 20_000, 100);
      const ids = [first, ...group];
      const applied = await h.db.query<Array<{ person_id: number; n: number }>>(`SELECT person_id, COUNT(*) AS n FROM ${APPLIED_TABLE} WHERE person_id IN (${ids.join(', ')}) GROUP BY person_id ORDER BY person_id`);
      expect(applied.map((row) => [Number(row.person_id), Number(row.n)])).toEqual(ids.map((id) => [id, 1]));
    } finally {
      await h.db.query('DROP TRIGGER IF EXISTS chaos_slow');
    }
  }, 60_000);
});
