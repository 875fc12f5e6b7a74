/**
 * backfill, verify, the worker's gauges and its capture-failure watch on a real Redis Cluster (3 primaries on
 * loopback, a runtime in front of each): each reads every shard and the writer's per-slot logs, not one node
 * and the writer's fixed `{W}` log. The keys the tests pick lie on the shards the commands were not pointed at.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chaosHashFields } from '../../bench/chaos/chaos-load.js';
import { CHAOS_PREFIX, CHAOS_TABLE, CHAOS_WRITER, chaosConfig } from '../../bench/chaos/chaos-schema.js';
import { clusterBacklogReport } from '../../bench/chaos/cluster-view.js';
import { writeConfigFile } from '../../bench/support/bench-config.js';
import { startCliProcess, type CliProcess } from '../../bench/support/cli-process.js';
import { findFreePort } from '../../bench/support/redis-server-process.js';
import { waitFor } from '../../bench/support/wait.js';
import { runBackfill } from '../../src/cli/actions/backfill.js';
import { runStatus } from '../../src/cli/actions/status.js';
import { runVerify } from '../../src/cli/actions/verify.js';
import { CLUSTER_SLOTS, keySlot } from '../../src/shared/key-slot.js';
import { partitionKeys } from '../../src/shared/keys.js';
import { runCli } from '../helpers/cli.js';
import { useChaosCluster } from '../fixtures/chaos-cluster.js';
import { withoutCapture } from './uncaptured-writes.js';

const KEYS = 300;
const quiet = () => undefined;

// Its uncaptured writes switch the notify flags off (uncaptured-writes.ts): the runtimes do not check them.
const h = useChaosCluster('cluster_reconcile', { settingsCheckMs: 0 });
let configFile: string;

const keyOf = (id: number) => `${CHAOS_PREFIX}:${id}`;

/** Ids from `from` on whose keys lie on shard `shard`, `count` of them. */
async function idsOnShard(shard: number, count: number, from: number): Promise<number[]> {
  const ids: number[] = [];
  for (let id = from; ids.length < count; id++) if ((await h.cluster.ownerOf(keySlot(keyOf(id)))) === shard) ids.push(id);
  return ids;
}

function startWorker(extra: string[] = []): CliProcess {
  configFile ??= writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-cluster-reconcile-')), chaosConfig());
  const worker = startCliProcess(['worker', '--redis', h.cluster.shards[0]!.url, '--mysql', h.db.url, '--config', configFile, ...extra]);
  h.workers.push(worker);
  return worker;
}

async function rowVersions(ids: readonly number[]): Promise<Map<number, number>> {
  const rows = await h.db.query<Array<{ person_id: number; version: number }>>(`SELECT person_id, version FROM ${CHAOS_TABLE} WHERE person_id IN (${ids.join(', ')})`);
  return new Map(rows.map((row) => [Number(row.person_id), Number(row.version)]));
}

describe('backfill and verify on a Redis Cluster', () => {
  it('backfill captures the hashes of every shard into their slot logs: every row lands in MySQL', async () => {
    const worker = startWorker();
    // Hashes written to each shard's redis-server with its notifications off: they exist, nothing captured them.
    const ids = Array.from({ length: KEYS }, (_, i) => 1000 + i);
    const owners = await Promise.all(ids.map((id) => h.cluster.ownerOf(keySlot(keyOf(id)))));
    expect(new Set(owners).size).toBe(3);
    for (const [shard, direct] of h.servers.entries()) {
      await withoutCapture(direct, async () => {
        for (const [i, id] of ids.entries()) if (owners[i] === shard) await direct.hSet(keyOf(id), chaosHashFields(id, 7));
      });
    }
    const lines: string[] = [];
    const result = await runBackfill({ writer: CHAOS_WRITER, redis: h.cluster.shards[1]!.url, config: configFile, rate: 2000 }, undefined, (line) => lines.push(line));
    expect(result.state).toMatchObject({ state: 'done', scanned: KEYS, captured: KEYS, skipped: 0 });
    expect(lines.at(-1)).toMatch(/scanned 300 key\(s\), captured 300, \d+ keys\/s; done/);
    await waitFor('every backfilled row', async () => {
      // A worker that died (it exits when Redis does not answer its start within 5 s) says why, at once.
      expect(worker.isRunning(), worker.tail()).toBe(true);
      return (await rowVersions(ids)).size === KEYS;
    }, 60_000, 200);
    expect([...(await rowVersions(ids)).values()].every((version) => version === 7)).toBe(true);
    // Each key's image went to its own slot's log, on its own shard.
    const slot = keySlot(keyOf(ids[0]!));
    expect(await h.servers[owners[0]!]!.hGet(partitionKeys(CHAOS_WRITER, slot, CLUSTER_SLOTS).meta, 'committed')).not.toBeNull();
    expect(worker.isRunning(), worker.tail()).toBe(true);
  }, 120_000);

  it('an interrupted backfill stores the primary it was scanning with its cursor, and a second run resumes there', async () => {
    // New images nothing captured: only a backfill that covers every shard brings every row to version 9.
    const ids = Array.from({ length: KEYS }, (_, i) => 1000 + i);
    for (const [shard, direct] of h.servers.entries()) {
      await withoutCapture(direct, async () => {
        for (const id of ids) if ((await h.cluster.ownerOf(keySlot(keyOf(id)))) === shard) await direct.hSet(keyOf(id), chaosHashFields(id, 9));
      });
    }
    const controller = new AbortController();
    const options = { writer: CHAOS_WRITER, redis: h.cluster.shards[0]!.url, config: configFile, rate: 100, restart: true };
    const first = runBackfill(options, controller.signal, quiet);
    await waitFor('a first SCAN step', async () => {
      const state = await h.client.hGetAll(`wb:backfill:{${CHAOS_WRITER}}`);
      return state['state'] === 'running' && Number(state['scanned']) > 0;
    }, 20_000, 50);
    controller.abort();
    const interrupted = await first;
    expect(interrupted.interrupted).toBe(true);
    const primaries = h.cluster.shards.map((shard) => new URL(shard.url).host);
    const [node, cursor] = interrupted.state.cursor.split('/');
    expect(primaries).toContain(node);
    expect(cursor).toMatch(/^\d+$/);
    expect(interrupted.state.scanned).toBeLessThan(KEYS);

    const resumed = await runBackfill({ ...options, restart: false, rate: 2000 }, undefined, quiet);
    expect(resumed.resumedFrom).toBe(interrupted.state.cursor);
    expect(resumed.state.runScanned).toBe(KEYS - interrupted.state.scanned);
    expect(resumed.state.state).toBe('done');
    await waitFor('every row at version 9', async () => {
      const versions = await rowVersions(ids);
      return versions.size === KEYS && [...versions.values()].every((version) => version === 9);
    }, 60_000, 200);
  }, 120_000);

  it('verify reads every shard: a missing, a stale and an orphan row off the first shard make it exit 1; --repair heals them', async () => {
    const [missing] = await idsOnShard(2, 1, 1000);
    const [stale] = await idsOnShard(1, 1, 1000);
    const [orphan] = await idsOnShard(2, 1, 900_000);
    await h.db.query(`DELETE FROM ${CHAOS_TABLE} WHERE person_id = ?`, [missing]);
    await h.db.query(`UPDATE ${CHAOS_TABLE} SET age = 999 WHERE person_id = ?`, [stale]);
    await h.db.query(`INSERT INTO ${CHAOS_TABLE} (person_id, first, version) VALUES (?, 'ghost', 1)`, [orphan]);
    const cli = await runCli(['verify', '--writer', CHAOS_WRITER, '--redis', h.cluster.shards[0]!.url, '--mysql', h.db.url, '--config', configFile, '--json'], { timeoutMs: 60_000 });
    expect(cli.code, cli.stderr).toBe(1);
    const report = JSON.parse(cli.stdout) as { keys: number; missing: unknown; stale: unknown; orphan: unknown };
    expect(report.keys).toBe(KEYS);
    expect(JSON.stringify(report.missing)).toContain(`"${keyOf(missing!)}"`);
    expect(JSON.stringify(report.stale)).toContain(`"${keyOf(stale!)}"`);
    expect(JSON.stringify(report.orphan)).toContain(`"${keyOf(orphan!)}"`);

    const repaired = await runVerify({ writer: CHAOS_WRITER, redis: h.cluster.shards[1]!.url, mysql: h.db.url, config: configFile, repair: true }, quiet, quiet);
    expect(repaired.repaired).toBe(3);
    await waitFor('the repairs to be written', async () => {
      const rows = await rowVersions([missing!, orphan!]);
      const [row] = await h.db.query<Array<{ age: number }>>(`SELECT age FROM ${CHAOS_TABLE} WHERE person_id = ?`, [stale]);
      return rows.has(missing!) && !rows.has(orphan!) && row?.age !== 999;
    }, 30_000, 200);
    const clean = await runVerify({ writer: CHAOS_WRITER, redis: h.cluster.shards[2]!.url, mysql: h.db.url, config: configFile }, quiet, quiet);
    expect(clean).toMatchObject({ keys: KEYS, rows: KEYS, missing: { count: 0 }, stale: { count: 0 }, orphan: { count: 0 } });
  }, 120_000);

  it('--repair keeps keys written with # - and # + on the shards after the first (records in their slot logs), and repairs them once written again uncaptured', async () => {
    const [deleted, plus] = await idsOnShard(2, 2, 1200);
    await h.client.hSet(keyOf(deleted!), { '#': '-' });
    await h.client.hSet(keyOf(plus!), { age: '77', '#': '+' });
    const logOf = (id: number) => partitionKeys(CHAOS_WRITER, keySlot(keyOf(id)), CLUSTER_SLOTS);
    expect(await h.servers[2]!.hGet(logOf(deleted!).divergent, keyOf(deleted!))).toBe('-');
    expect(await h.servers[2]!.hGet(logOf(plus!).divergent, keyOf(plus!))).toMatch(/^\+[0-9a-f]{16}$/);

    const kept = await runVerify({ writer: CHAOS_WRITER, redis: h.cluster.shards[0]!.url, mysql: h.db.url, config: configFile, repair: true }, quiet, quiet);
    expect(kept).toMatchObject({ kept: 2, repaired: 0, missing: { count: 0 }, stale: { count: 0 }, orphan: { count: 0 } });
    expect([...(await rowVersions([deleted!, plus!])).values()]).toEqual([9, 9]);

    // Written again straight to the shard's redis-server: the records are stale, the keys repaired as usual.
    await withoutCapture(h.servers[2]!, async () => {
      await h.servers[2]!.hSet(keyOf(deleted!), chaosHashFields(deleted!, 11));
      await h.servers[2]!.hSet(keyOf(plus!), chaosHashFields(plus!, 11));
    });
    const repaired = await runVerify({ writer: CHAOS_WRITER, redis: h.cluster.shards[0]!.url, mysql: h.db.url, config: configFile, repair: true }, quiet, quiet);
    expect(repaired).toMatchObject({ kept: 0, repaired: 2, recordsRemoved: 2 });
    await waitFor('the repairs to be written', async () => [...(await rowVersions([deleted!, plus!])).values()].every((version) => version === 11), 30_000, 200);
    expect(await h.servers[2]!.hLen(logOf(deleted!).divergent)).toBe(0);
  }, 120_000);

  it('verify compares a binary column byte for byte on a shard after the first: fe 41 in MySQL against ff 41 in Redis is stale, and --repair writes ff 41', async () => {
    const [id] = await idsOnShard(2, 1, 1100);
    const key = keyOf(id!);
    const lastOf = async () => (await h.db.query<Array<{ last: Buffer | null }>>(`SELECT last FROM ${CHAOS_TABLE} WHERE person_id = ?`, [id]))[0]?.last;
    await h.db.query(`ALTER TABLE ${CHAOS_TABLE} MODIFY last VARBINARY(64) NULL`);
    try {
      // A worker reads the table's columns when it starts: this one writes `last` as bytes.
      await Promise.all(h.workers.map((worker) => worker.stop()));
      startWorker();
      await withoutCapture(h.servers[2]!, () => h.servers[2]!.hSet(key, 'last_name', Buffer.from([0xff, 0x41])));
      await h.db.query(`UPDATE ${CHAOS_TABLE} SET last = X'fe41' WHERE person_id = ?`, [id]);

      const found = await runVerify({ writer: CHAOS_WRITER, redis: h.cluster.shards[0]!.url, mysql: h.db.url, config: configFile }, quiet, quiet);
      expect(found).toMatchObject({ missing: { count: 0 }, orphan: { count: 0 }, stale: { count: 1, examples: [{ key, columns: [{ column: 'last', redis: '0xff41', mysql: '0xfe41' }] }] } });
      const repaired = await runVerify({ writer: CHAOS_WRITER, redis: h.cluster.shards[0]!.url, mysql: h.db.url, config: configFile, repair: true }, quiet, quiet);
      expect(repaired.repaired).toBe(1);
      await waitFor('the repair to be written', async () => (await lastOf())?.equals(Buffer.from([0xff, 0x41])) === true, 30_000, 200);
      const clean = await runVerify({ writer: CHAOS_WRITER, redis: h.cluster.shards[1]!.url, mysql: h.db.url, config: configFile }, quiet, quiet);
      expect(clean).toMatchObject({ missing: { count: 0 }, stale: { count: 0 }, orphan: { count: 0 } });
    } finally {
      // Text again, in Redis and MySQL, for the tests after this one.
      await withoutCapture(h.servers[2]!, () => h.servers[2]!.hSet(key, 'last_name', 'L'));
      await h.db.query(`UPDATE ${CHAOS_TABLE} SET last = 'L' WHERE person_id = ?`, [id]);
      await h.db.query(`ALTER TABLE ${CHAOS_TABLE} MODIFY last VARCHAR(64) NULL`);
    }
  }, 120_000);

  it("verify waits for every slot log's commit: without a worker it fails naming the slot log of a key off the first shard", async () => {
    await Promise.all(h.workers.map((worker) => worker.stop()));
    const [id] = await idsOnShard(2, 1, 1000);
    await h.client.hSet(keyOf(id!), { age: '55' });
    const log = partitionKeys(CHAOS_WRITER, keySlot(keyOf(id!)), CLUSTER_SLOTS);
    await expect(runVerify({ writer: CHAOS_WRITER, redis: h.cluster.shards[0]!.url, mysql: h.db.url, config: configFile, waitMs: 500 }, quiet, quiet)).rejects.toThrow(`has not committed ${log.changes}`);
    startWorker();
    await waitFor('the change to be written', async () => (await h.db.query<Array<{ age: number }>>(`SELECT age FROM ${CHAOS_TABLE} WHERE person_id = ?`, [id]))[0]?.age === 55, 30_000, 200);
  }, 90_000);
});

describe("the worker's gauges and capture-failure watch on a Redis Cluster", () => {
  it('a backlog and failed captures on the shards after the first show in /metrics and in status', async () => {
    await Promise.all(h.workers.map((worker) => worker.stop()));
    const port = await findFreePort();
    const worker = startWorker(['--metrics-port', String(port)]);
    const metrics = async () => {
      try {
        return await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      } catch {
        return '';
      }
    };
    await waitFor('the metrics server', async () => (await metrics()).includes('writebehind_backlog_records'), 30_000, 200);
    // The writer-wide backfill and verify state (`{w}` keys, on their shard) of the tests above.
    await waitFor('the backfill gauge', async () => (await metrics()).includes(`writebehind_backfill_keys{writer="ChaosPersons"} ${KEYS}`), 20_000, 200);
    // A table lock holds the worker's commits: what shard 2 captures stays in its slot log.
    const lock = await h.db.pool.getConnection();
    await lock.query(`LOCK TABLES ${CHAOS_TABLE} WRITE`);
    // Two records on shard 1 and three on shard 2: a reading of any one primary alone shows neither sum.
    const ids = [...(await idsOnShard(1, 2, 2000)), ...(await idsOnShard(2, 3, 2000))];
    try {
      for (const id of ids) await h.client.hSet(keyOf(id), chaosHashFields(id, 1));
      const shard = (index: number) => new URL(h.cluster.shards[index]!.url).host;
      let last = '';
      await waitFor('the backlog gauges', async () => {
        const text = await metrics();
        last = text.split('\n').filter((line) => /^writebehind_(shard_)?backlog_records/.test(line)).join('; ');
        return text.includes('writebehind_backlog_records{writer="ChaosPersons"} 5') &&
          text.includes(`writebehind_shard_backlog_records{writer="ChaosPersons",shard="${shard(1)}"} 2`) &&
          text.includes(`writebehind_shard_backlog_records{writer="ChaosPersons",shard="${shard(2)}"} 3`);
      }, 40_000, 500).catch(async (error: unknown) => {
        // What the gauges and the logs said instead.
        throw new Error(`${String(error)}; gauges: ${last}; shards 1, 2: ${shard(1)}, ${shard(2)}; logs now:\n${await clusterBacklogReport(h.servers)}\nworker: ${worker.tail()}`);
      });
    } finally {
      await lock.query('UNLOCK TABLES');
      lock.release();
    }
    await waitFor('the backlog to drain', async () => (await rowVersions(ids)).size === ids.length, 30_000, 200);

    // A capture that throws on shard 1 and one on shard 2 (the slot log's capture stream is a string there).
    const broken: string[] = [];
    for (const shard of [1, 2]) {
      const [id] = await idsOnShard(shard, 1, 3000);
      const log = partitionKeys(CHAOS_WRITER, keySlot(keyOf(id!)), CLUSTER_SLOTS);
      await h.client.del(log.changes);
      await h.client.set(log.changes, 'not a stream');
      broken.push(log.changes);
      await h.client.hSet(keyOf(id!), chaosHashFields(id!, 1));
    }
    try {
      await waitFor('the failure gauge', async () => /writebehind_capture_failures\{writer="ChaosPersons"\} ([2-9]|\d\d)/.test(await metrics()), 30_000, 500);
      const report = await runStatus({ redis: h.cluster.shards[0]!.url, config: configFile, json: true }, quiet);
      expect(report.writers[0]!.failedCaptures).toBeGreaterThanOrEqual(2);
      expect(report.writers[0]!.lastCaptureError).toMatch(/WRONGTYPE/);
    } finally {
      for (const stream of broken) await h.client.del(stream);
    }
    expect(worker.isRunning(), worker.tail()).toBe(true);
  }, 120_000);
});
