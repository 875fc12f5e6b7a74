/**
 * verify on a Redis Cluster while a slot moves: it reads each slot's images in one MULTI on the slot's owner as
 * its cluster client last saw the topology. A slot moved since (MOVED) is followed to its new owner; a slot in
 * migration (ASK, TRYAGAIN: its keys on two nodes, no one MULTI reads them) is waited for, a bounded time, and
 * then fails naming the slot, its nodes and what to do. Never a wrong report: the stale row in the moved slot is
 * found, and no key is reported that does not differ.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHAOS_PREFIX, CHAOS_TABLE, CHAOS_WRITER, chaosConfig } from '../../bench/chaos/chaos-schema.js';
import { chaosHashFields } from '../../bench/chaos/chaos-load.js';
import { writeConfigFile } from '../../bench/support/bench-config.js';
import { startCliProcess } from '../../bench/support/cli-process.js';
import { nodeId } from '../../bench/support/cluster-slots.js';
import { waitFor } from '../../bench/support/wait.js';
import { ClusterReconcileRedis } from '../../src/reconcile/cluster-reconcile-redis.js';
import { ReconcileMysql } from '../../src/reconcile/reconcile-mysql.js';
import { verify } from '../../src/reconcile/verify.js';
import { writerTarget } from '../../src/reconcile/writer-target.js';
import { loadConfigFile } from '../../src/shared/config-file.js';
import { keySlot } from '../../src/shared/key-slot.js';
import { useChaosCluster } from '../fixtures/chaos-cluster.js';

const KEYS = 60;
const h = useChaosCluster('verify_moves');
const keyOf = (id: number) => `${CHAOS_PREFIX}:${id}`;
const ids = Array.from({ length: KEYS }, (_, i) => 3000 + i);
let configFile: string;

async function start(): Promise<void> {
  if (configFile !== undefined) return;
  configFile = writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-verify-moves-')), chaosConfig());
  h.workers.push(startCliProcess(['worker', '--redis', h.cluster.shards[0]!.url, '--mysql', h.db.url, '--config', configFile]));
  for (const id of ids) await h.client.hSet(keyOf(id), chaosHashFields(id, 5));
  await waitFor('every row', async () => {
    const [row] = await h.db.query<Array<{ n: number }>>(`SELECT COUNT(*) AS n FROM ${CHAOS_TABLE} WHERE person_id BETWEEN ? AND ? AND version = 5`, [ids[0], ids.at(-1)]);
    return Number(row?.n) === KEYS;
  }, 60_000, 200);
}

/** A verify client connected (its topology read) now, and run later. */
async function connectVerify() {
  const redis = await ClusterReconcileRedis.connect(h.cluster.shards[0]!.url);
  const mysql = await ReconcileMysql.connect(h.db.url);
  const target = writerTarget(await loadConfigFile(configFile), CHAOS_WRITER, configFile);
  return {
    run: () => verify(redis, mysql, { target, waitMs: 20_000 }),
    close: async () => { await redis.close(); await mysql.close(); },
  };
}

/** Another shard than `shard`. */
const other = (shard: number) => (shard + 1) % 3;

async function command(shard: number, ...args: string[]): Promise<string> {
  return String(await h.servers[shard]!.sendCommand(args));
}

describe('verify on a Redis Cluster while slots move', () => {
  it('a slot moved during the scan from a primary not yet scanned to one already scanned fails verify naming the slot, instead of a report without its keys', async () => {
    await start();
    const redis = await ClusterReconcileRedis.connect(h.cluster.shards[0]!.url);
    const mysql = await ReconcileMysql.connect(h.db.url);
    const target = writerTarget(await loadConfigFile(configFile), CHAOS_WRITER, configFile);
    const order = h.cluster.shards.map((shard, index) => ({ address: new URL(shard.url).host, index })).sort((a, b) => (a.address < b.address ? -1 : 1));
    const [first, second, last] = order as [typeof order[0], typeof order[0], typeof order[0]];
    let id = ids[0]!;
    for (const candidate of ids) if ((await h.cluster.ownerOf(keySlot(keyOf(candidate)))) === last.index) id = candidate;
    const slot = keySlot(keyOf(id));
    expect(await h.cluster.ownerOf(slot)).toBe(last.index);
    const scan = redis.scan.bind(redis);
    let moved = false;
    redis.scan = async (cursor, pattern, count) => {
      const step = await scan(cursor, pattern, count);
      if (!moved && step.cursor.startsWith(`${second.address}/`)) {
        moved = true;
        await h.cluster.moveSlot(slot, first.index);
      }
      return step;
    };
    try {
      const outcome = await verify(redis, mysql, { target, waitMs: 20_000, pageSize: 10 }).then((report) => report, (error: unknown) => error as Error);
      expect(moved).toBe(true);
      expect(outcome, `verify reported ${JSON.stringify(outcome)}`).toBeInstanceOf(Error);
      expect((outcome as Error).message).toContain(`slot ${slot}`);
      expect((outcome as Error).message).toContain('run verify again');
      const report = await verify(redis, mysql, { target, waitMs: 20_000 });
      expect(report).toMatchObject({ keys: KEYS, missing: { count: 0 }, stale: { count: 0 } });
    } finally {
      await redis.close();
      await mysql.close();
    }
  }, 120_000);

  it('a slot moved after verify read the topology and before its MULTI is followed to its new owner: the stale row in it is reported, nothing else', async () => {
    await start();
    const id = ids[7]!;
    const slot = keySlot(keyOf(id));
    await h.db.query(`UPDATE ${CHAOS_TABLE} SET age = 999 WHERE person_id = ?`, [id]);
    const run = await connectVerify();
    try {
      const from = await h.cluster.ownerOf(slot);
      await h.cluster.moveSlot(slot, other(from));
      // ownerOf asks the first node, which hears of the move by gossip when it is neither end of it.
      await waitFor(`slot ${slot} announced on shard ${other(from)}`, async () => (await h.cluster.ownerOf(slot)) === other(from), 15_000, 100);
      const report = await run.run();
      expect(report).toMatchObject({ keys: KEYS, missing: { count: 0 }, stale: { count: 1, examples: [{ key: keyOf(id) }] } });
    } finally {
      await run.close();
      await h.db.query(`UPDATE ${CHAOS_TABLE} SET age = ? WHERE person_id = ?`, [chaosHashFields(id, 5)['age'], id]);
    }
  }, 120_000);

  it('a slot left migrating (one hash moved, its log not) fails verify naming the slot, its two nodes and the way out, within a bounded time; once the move is finished verify reports correctly', async () => {
    await start();
    const id = ids[11]!;
    const key = keyOf(id);
    const slot = keySlot(key);
    const from = await h.cluster.ownerOf(slot);
    const to = other(from);
    const [fromId, toId] = await Promise.all([nodeId(h.cluster.shards[from]!.server.port), nodeId(h.cluster.shards[to]!.server.port)]);
    await command(to, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', fromId);
    await command(from, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', toId);
    expect(await command(from, 'MIGRATE', '127.0.0.1', String(h.cluster.shards[to]!.server.port), '', '0', '10000', 'KEYS', key)).toBe('OK');
    const run = await connectVerify();
    try {
      const started = Date.now();
      const failed = await run.run().then(() => undefined, (error: unknown) => error as Error);
      expect(failed, 'verify gave a report over a slot in migration').toBeInstanceOf(Error);
      expect(failed!.message).toContain(`slot ${slot}`);
      expect(failed!.message).toMatch(/migrat/i);
      expect(failed!.message).toContain('run verify again');
      expect(failed!.message).toContain(`--from ${new URL(h.cluster.shards[from]!.url).host} --to ${new URL(h.cluster.shards[to]!.url).host} --slots ${slot},`);
      expect(Date.now() - started).toBeLessThan(30_000);

      // The move finished while verify waits for it: the slot is read on its new owner, and the run either
      // reports correctly or, the slot having changed owner during its scan, says so; never a wrong report.
      const rest = (await h.servers[from]!.sendCommand(['CLUSTER', 'GETKEYSINSLOT', String(slot), '1000'])) as string[];
      await h.db.query(`UPDATE ${CHAOS_TABLE} SET age = 998 WHERE person_id = ?`, [id]);
      const during = run.run().then((report) => report, (error: unknown) => error as Error);
      await new Promise((resolve) => setTimeout(resolve, 500));
      if (rest.length > 0) expect(await command(from, 'MIGRATE', '127.0.0.1', String(h.cluster.shards[to]!.server.port), '', '0', '10000', 'KEYS', ...rest)).toBe('OK');
      await command(to, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', toId);
      await command(from, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', toId);
      const outcome = await during;
      if (outcome instanceof Error) expect(outcome.message).toMatch(new RegExp(`slot ${slot}\\b.*run verify again`));
      else expect(outcome).toMatchObject({ keys: KEYS, missing: { count: 0 }, stale: { count: 1, examples: [{ key }] } });
      expect(await run.run()).toMatchObject({ keys: KEYS, missing: { count: 0 }, stale: { count: 1, examples: [{ key }] } });
    } finally {
      await run.close();
      await h.db.query(`UPDATE ${CHAOS_TABLE} SET age = ? WHERE person_id = ?`, [chaosHashFields(id, 5)['age'], id]);
    }
  }, 120_000);
});
