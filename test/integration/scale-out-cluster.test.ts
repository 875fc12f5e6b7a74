/**
 * The write-behind on a real Redis Cluster (3 primaries on loopback, a runtime in front of each) end to end,
 * with worker processes: under a load from a cluster client across every shard, slots holding capture logs are
 * moved to other shards and one of two workers is SIGKILLed. Afterwards every MySQL row equals its Redis hash,
 * no version was applied twice, each key's versions reached MySQL in increasing order (an AFTER INSERT/UPDATE
 * trigger records every application), and there is one exactly-once row per slot log.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedisClientType } from 'redis';
import { ChaosLoad, chaosHashFields } from '../../bench/chaos/chaos-load.js';
import { awaitClusterDrain, clusterBacklog, clusterReadView } from '../../bench/chaos/cluster-view.js';
import { CHAOS_EXACTLY_ONCE_TABLE, CHAOS_TABLE, CHAOS_PREFIX, CHAOS_WRITER, chaosConfig } from '../../bench/chaos/chaos-schema.js';
import { writeConfigFile } from '../../bench/support/bench-config.js';
import { startCliProcess } from '../../bench/support/cli-process.js';
import { sleep } from '../../bench/support/sleep.js';
import { waitFor } from '../../bench/support/wait.js';
import { runDlq } from '../../src/cli/actions/dlq.js';
import { runStatus } from '../../src/cli/actions/status.js';
import { deployLibrary } from '../../src/deploy/deploy.js';
import { CLUSTER_SLOTS, keySlot } from '../../src/shared/key-slot.js';
import { partitionKeys } from '../../src/shared/keys.js';
import { recaptureVanished } from '../../bench/chaos/slot-move.js';
import { expectConsistent } from '../helpers/chaos-consistency.js';
import { useChaosCluster } from '../fixtures/chaos-cluster.js';

const KEYS = 200;

const h = useChaosCluster('cluster_load');

describe('the write-behind on a Redis Cluster', () => {
  it('two workers drain every slot log while slots move between shards and one worker is SIGKILLed: in order, nothing lost, nothing applied twice', async () => {
    const configFile = writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-cluster-')), chaosConfig());
    for (const consumer of ['c1', 'c2']) {
      h.workers.push(startCliProcess(['worker', '--redis', h.cluster.shards[0]!.url, '--mysql', h.db.url, '--config', configFile, '--consumer', consumer, '--claim-min-idle-ms', '1000']));
    }
    const load = new ChaosLoad(h.client as unknown as RedisClientType, KEYS, 60);
    load.start();
    await sleep(2500);
    h.workers[1]!.signal('SIGKILL');
    // The slots of a few keys HSET already move to the next shard, each in one MIGRATE, under the load,
    // while the killed worker's batches wait to be reclaimed.
    const written = [...load.outcomes].filter(([, outcome]) => outcome !== 'uncertain' && !outcome.deleted).map(([id]) => id);
    const moved = [...new Set(written.slice(0, 6).map((id) => keySlot(`${CHAOS_PREFIX}:${id}`)))];
    // Keys deleted in a move's window are re-captured, as `writebehind reshard` does (bench/chaos/slot-move.ts).
    for (const slot of moved) {
      const { vanished } = await h.cluster.moveSlot(slot, ((await h.cluster.ownerOf(slot)) + 1) % h.cluster.shards.length);
      await recaptureVanished(h.client, chaosConfig(), vanished);
    }
    await sleep(3000);
    await load.stop();
    expect(load.counts.failed).toBe(0);

    // On a timeout, what is left says why: each log's records, descriptors and pending ones, the worker's log.
    expect(await awaitClusterDrain(h.servers, () => h.workers[0]!.tail(), 45_000)).toBeNull();
    expect(h.workers[0]!.isRunning(), h.workers[0]!.tail()).toBe(true);
    for (const slot of moved) {
      // The moved slots' logs were committed on their new shard.
      const owner = h.servers[await h.cluster.ownerOf(slot)]!;
      expect(await owner.hGet(partitionKeys(CHAOS_WRITER, slot, CLUSTER_SLOTS).meta, 'committed')).not.toBeNull();
    }
    await expectConsistent(clusterReadView(h.servers, h.client), h.db, load.outcomes, load.replyOrder);
    // One exactly-once row per slot log that committed anything, named after the log.
    const cursors = await h.db.query<Array<{ id: string }>>(`SELECT id FROM ${CHAOS_EXACTLY_ONCE_TABLE}`);
    const committedLogs = new Set<string>();
    for (const direct of h.servers) {
      for await (const metas of direct.scanIterator({ MATCH: `wb:meta:${CHAOS_WRITER}:*`, COUNT: 1000 })) {
        for (const meta of metas) if ((await direct.hGet(meta, 'committed')) !== null) committedLogs.add(meta.replace('wb:meta:', 'wb:changes:'));
      }
    }
    expect(committedLogs.size).toBeGreaterThan(100);
    expect(new Set(cursors.map((c) => c.id))).toEqual(committedLogs);
    // `writebehind status` through any node sums the writer's slot logs of every shard.
    const report = await runStatus({ redis: h.cluster.shards[2]!.url, config: configFile, json: true }, () => undefined);
    const status = report.writers[0]!;
    expect(status.backlog).toBe(0);
    expect(status.partitions!.slice(1).map((log) => log.stream).sort()).toEqual([...committedLogs].sort());
    expect(status.committedRows).toBe(status.partitions!.reduce((rows, log) => rows + log.committedRows, 0));
    expect(status.committedRows).toBeGreaterThan(0);
  }, 90_000);

  it('records still open when their slot moves are committed on the new node long before the periodic sweep: by the sweep the move starts, or at once where the new node counted them', async () => {
    await Promise.all(h.workers.map((worker) => worker.stop()));
    // The new node cuts the record either when the sweep the move starts names it to `adopt` (when the node did
    // not count it: its stream trigger's read of the restored log met the slot still IMPORTING) and the next
    // `ready` poll, or at that poll at once (when that read came after SETSLOT NODE, under load, and counted it):
    // the worker has nothing of the new node in hand, so it asks with 0 (group commit). Either comes well before
    // the periodic sweep (every 30 s), which is all that would cut an uncounted record were the move's sweep missing.
    const config = { ...chaosConfig(), batch: { ...chaosConfig().batch, maxDelayMs: 12_000 } };
    await deployLibrary({ redisUrl: h.cluster.shards[0]!.url, config });
    const id = KEYS + 1;
    const key = `${CHAOS_PREFIX}:${id}`;
    const slot = keySlot(key);
    const owner = await h.cluster.ownerOf(slot);
    // The record stays open on its node because the worker is busy there (it cuts by maxDelayMs, 12 s, then):
    // another key of that node, in another slot, whose row takes seconds to insert, is in flight meanwhile.
    let slowId = KEYS + 2;
    while (keySlot(`${CHAOS_PREFIX}:${slowId}`) === slot || (await h.cluster.ownerOf(keySlot(`${CHAOS_PREFIX}:${slowId}`))) !== owner) slowId++;
    await h.db.query(`CREATE TRIGGER chaos_slow BEFORE INSERT ON ${CHAOS_TABLE} FOR EACH ROW SET NEW.age = IF(NEW.person_id = ${slowId}, NEW.age + 0 * SLEEP(8), NEW.age)`);
    try {
      const configFile = writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-cluster-')), config);
      const worker = startCliProcess(['worker', '--redis', h.cluster.shards[1]!.url, '--mysql', h.db.url, '--config', configFile, '--consumer', 'c3'], { LOG_LEVEL: 'info' });
      h.workers.push(worker);
      // Its first sweep (which would cut the record) is done before the record is written.
      await waitFor('the worker to start', async () => worker.tail().includes('"msg":"worker started"'), 20_000, 100);
      await sleep(1000);
      await h.client.hSet(`${CHAOS_PREFIX}:${slowId}`, chaosHashFields(slowId, 1));
      const inserting = async () => Number((await h.db.query<Array<{ n: number }>>("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'INSERT INTO%'", [h.db.name]))[0]!.n) > 0;
      await waitFor('the slow row\'s INSERT', inserting, 10_000, 20);
      await h.client.hSet(key, chaosHashFields(id, 1));
      const log = partitionKeys(CHAOS_WRITER, slot, CLUSTER_SLOTS);
      const before = h.servers[owner]!;
      await sleep(1500); // a poll of the node or two: the record is not cut while the worker is busy there
      expect(await before.xLen(log.changes)).toBeGreaterThan(await before.xLen(log.batches));
      expect(await inserting(), 'the slow INSERT still runs').toBe(true);
      await h.cluster.moveSlot(slot, (owner + 1) % h.cluster.shards.length);

      await waitFor('the moved record to be committed', async () => (await h.db.query<unknown[]>(`SELECT 1 FROM ${CHAOS_TABLE} WHERE person_id = ${id}`)).length === 1, 22_000, 100);
      expect(await clusterBacklog(h.servers)).toBe(0);
    } finally {
      await h.db.query('DROP TRIGGER IF EXISTS chaos_slow');
    }
  }, 60_000);

  it('writebehind dlq lists, replays and purges the dead letters of slot logs on every shard', async () => {
    const configFile = writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-cluster-')), chaosConfig());
    await deployLibrary({ redisUrl: h.cluster.shards[0]!.url, config: chaosConfig() });
    h.workers.push(startCliProcess(['worker', '--redis', h.cluster.shards[0]!.url, '--mysql', h.db.url, '--config', configFile, '--consumer', 'dlq']));
    // One key on each shard, whose first name does not fit the column (VARCHAR(64)): each is dead-lettered in
    // its own slot log's dead-letter stream, on its own shard.
    const ids: number[] = [];
    const owners = new Set<number>();
    for (let id = 800_000; owners.size < h.cluster.shards.length; id++) {
      const owner = await h.cluster.ownerOf(keySlot(`${CHAOS_PREFIX}:${id}`));
      if (owners.has(owner)) continue;
      owners.add(owner);
      ids.push(id);
    }
    for (const id of ids) await h.client.hSet(`${CHAOS_PREFIX}:${id}`, { ...chaosHashFields(id, 1), first_name: 'x'.repeat(100) });
    const dlq = (action: 'list' | 'replay' | 'purge') => runDlq({ action, writer: CHAOS_WRITER, redis: h.cluster.shards[1]!.url, config: configFile }, () => undefined);
    await waitFor('three dead letters', async () => (await dlq('list')).letters.length === ids.length, 20_000, 200);
    expect((await dlq('list')).letters.map((letter) => letter.key).sort()).toEqual(ids.map((id) => `${CHAOS_PREFIX}:${id}`).sort());
    await h.db.query(`ALTER TABLE ${CHAOS_TABLE} MODIFY first VARCHAR(200) NOT NULL`);
    try {
      expect(await dlq('replay')).toMatchObject({ removed: ids.length, skipped: 0 });
      await waitFor('the replayed rows', async () => (await h.db.query<unknown[]>(`SELECT 1 FROM ${CHAOS_TABLE} WHERE person_id IN (${ids.join(', ')})`)).length === ids.length, 20_000, 200);
      expect((await dlq('list')).letters).toEqual([]);
      await h.client.hSet(`${CHAOS_PREFIX}:${ids[0]}`, { first_name: 'y'.repeat(201) });
      await waitFor('a new dead letter', async () => (await dlq('list')).letters.length === 1, 20_000, 200);
      expect((await dlq('purge')).removed).toBe(1);
      expect((await dlq('list')).letters).toEqual([]);
    } finally {
      await h.db.query(`DELETE FROM ${CHAOS_TABLE} WHERE CHAR_LENGTH(first) > 64`);
      await h.db.query(`ALTER TABLE ${CHAOS_TABLE} MODIFY first VARCHAR(64) NOT NULL`);
    }
  }, 90_000);
});
