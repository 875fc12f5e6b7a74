/**
 * Slot moves, re-captures and backfill on a real Redis Cluster (3 primaries on loopback, a runtime in front of
 * each) and the `#` flags `+` and `-`: a key written with them is kept apart from MySQL on purpose, and its
 * divergence record sits in its slot's log (docs/reconcile.md). `writebehind reshard` moves the record with the
 * slot, and its re-capture, like `writebehind recapture --slots` and `writebehind backfill`, leaves such a key
 * alone while the record holds; a key written again since (a stale record) is re-captured as before, and its
 * record dropped.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chaosHashFields } from '../../bench/chaos/chaos-load.js';
import { CHAOS_PREFIX, CHAOS_TABLE, CHAOS_WRITER, chaosConfig } from '../../bench/chaos/chaos-schema.js';
import { clusterBacklog } from '../../bench/chaos/cluster-view.js';
import { writeConfigFile } from '../../bench/support/bench-config.js';
import { startCliProcess } from '../../bench/support/cli-process.js';
import { sleep } from '../../bench/support/sleep.js';
import { waitFor } from '../../bench/support/wait.js';
import { runBackfill } from '../../src/cli/actions/backfill.js';
import { runRecapture } from '../../src/cli/actions/recapture.js';
import type { RecaptureSlotsResult } from '../../src/reshard/recapture-slots.js';
import { ClusterAdmin } from '../../src/reshard/cluster-admin.js';
import { recaptureTarget } from '../../src/reshard/recapture-target.js';
import { reshard, type ReshardResult } from '../../src/reshard/reshard.js';
import { CLUSTER_SLOTS, keySlot } from '../../src/shared/key-slot.js';
import { partitionKeys } from '../../src/shared/keys.js';
import { useChaosCluster } from '../fixtures/chaos-cluster.js';
import { monitored } from '../helpers/monitor.js';
import { withoutCapture } from './uncaptured-writes.js';

// Its uncaptured writes switch the notify flags off (uncaptured-writes.ts): the runtimes do not check them.
const h = useChaosCluster('cluster_reshard_divergent', { settingsCheckMs: 0 });
let configFile: string | undefined;

const keyOf = (id: number) => `${CHAOS_PREFIX}:${id}`;
const address = (shard: number) => new URL(h.cluster.shards[shard]!.url).host;
const divergentOf = (slot: number) => partitionKeys(CHAOS_WRITER, slot, CLUSTER_SLOTS).divergent;

function config(): string {
  configFile ??= writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-reshard-divergent-')), chaosConfig());
  return configFile;
}

function startWorker(): void {
  if (h.workers.length === 0) h.workers.push(startCliProcess(['worker', '--redis', h.cluster.shards[0]!.url, '--mysql', h.db.url, '--config', config(), '--consumer', 'divergent']));
}

async function rowVersion(id: number): Promise<number | null> {
  const rows = await h.db.query<Array<{ version: number | string }>>(`SELECT version FROM ${CHAOS_TABLE} WHERE person_id = ?`, [id]);
  return rows.length === 0 ? null : Number(rows[0]!.version);
}

/** `count` ids from `from` on whose keys share one slot served by shard `owner`. */
async function idsInOneSlot(owner: number, count: number, from: number): Promise<number[]> {
  let first = from;
  while ((await h.cluster.ownerOf(keySlot(keyOf(first)))) !== owner) first++;
  const ids = [first];
  for (let id = first + 1; ids.length < count; id++) if (keySlot(keyOf(id)) === keySlot(keyOf(first))) ids.push(id);
  return ids;
}

/** Written with the capture on (row at `version`), drained. */
async function written(ids: readonly number[], version: number): Promise<void> {
  for (const id of ids) await h.client.hSet(keyOf(id), { ...chaosHashFields(id, version), '#': '=' });
  for (const id of ids) await waitFor(`${keyOf(id)} v${version} in MySQL`, async () => (await rowVersion(id)) === version, 20_000, 100);
}

const drained = () => waitFor('every capture log to drain', async () => (await clusterBacklog(h.servers)) === 0, 20_000, 200);

describe('reshard and recapture leave keys written with # + and # - alone', () => {
  it('reshard moves the divergence records with the slot, and its re-capture keeps the row of a key deleted with - during the move and the replicated value of a key changed with +', async () => {
    startWorker();
    const [deleted, plus] = (await idsInOneSlot(0, 2, 3_000_000)) as [number, number];
    const slot = keySlot(keyOf(deleted));
    await written([deleted, plus], 1);
    await h.client.hSet(keyOf(plus), { ...chaosHashFields(plus, 2), '#': '+' });
    expect(await h.servers[0]!.hGet(divergentOf(slot), keyOf(plus))).toMatch(/^\+[0-9a-f]{16}$/);

    // The - write lands while the slot moves: after reshard listed the slot's keys (so the key is among those it
    // re-captures, as any key deleted in a move is), before the MIGRATE.
    const admin = await ClusterAdmin.connect(h.cluster.shards[2]!.url);
    const send = admin.send.bind(admin);
    admin.send = async (node, args) => {
      if (args[0] === 'CLUSTER' && args[2] === String(slot) && args[3] === 'MIGRATING') {
        await h.client.hSet(keyOf(deleted), '#', '-');
        expect(await h.servers[0]!.exists(keyOf(deleted))).toBe(0);
      }
      return send(node, args);
    };
    let result: ReshardResult;
    const printed: string[] = [];
    try {
      result = await reshard(admin, recaptureTarget(chaosConfig()), { from: address(0), to: address(1), slots: [slot], print: (line) => printed.push(line) });
    } finally {
      await admin.close();
    }
    expect(await h.cluster.ownerOf(slot)).toBe(1);
    // The record hash is a key of the slot: it moved in the MIGRATE, the records intact (the source, which now
    // answers MOVED for the slot, keeps no key of it).
    expect(await h.servers[0]!.sendCommand(['CLUSTER', 'COUNTKEYSINSLOT', String(slot)])).toBe(0);
    expect(await h.servers[1]!.hGetAll(divergentOf(slot))).toEqual({ [keyOf(deleted)]: '-', [keyOf(plus)]: expect.stringMatching(/^\+[0-9a-f]{16}$/) as string });

    await drained();
    await sleep(1000);
    expect.soft(await rowVersion(deleted)).toBe(1);
    expect(await rowVersion(plus)).toBe(1);
    expect(result.moves[0]!.recapture).toMatchObject({ mappedKeys: 2, captured: 0, skipped: 0, kept: 2 });
    expect(printed.find((line) => line.startsWith(`reshard: slot ${slot}:`))).toMatch(/, 2 mapped key\(s\) re-captured \(0 record\(s\)\); 2 key\(s\) left as they are \(written with # \+ or - and unchanged since, or gone under onExpire: keep\)$/);
    // Still holding: the records stay.
    expect(await h.servers[1]!.hLen(divergentOf(slot))).toBe(2);
  }, 90_000);

  it('recapture --slots keeps the replicated value of a key changed with +, and re-captures as before (dropping the record) keys written again uncaptured since their + or -', async () => {
    startWorker();
    const [plus, staleDeleted, stalePlus] = (await idsInOneSlot(2, 3, 3_100_000)) as [number, number, number];
    const slot = keySlot(keyOf(plus));
    await written([plus, staleDeleted, stalePlus], 1);
    await h.client.hSet(keyOf(plus), { ...chaosHashFields(plus, 2), '#': '+' });
    await h.client.hSet(keyOf(staleDeleted), '#', '-');
    await h.client.hSet(keyOf(stalePlus), { ...chaosHashFields(stalePlus, 2), '#': '+' });
    expect(await h.servers[2]!.hLen(divergentOf(slot))).toBe(3);
    // Written again straight to the shard's redis-server: only a re-capture brings these to MySQL.
    await withoutCapture(h.servers[2]!, async () => {
      await h.servers[2]!.hSet(keyOf(staleDeleted), chaosHashFields(staleDeleted, 3));
      await h.servers[2]!.hSet(keyOf(stalePlus), chaosHashFields(stalePlus, 3));
    });
    await drained();

    let result: RecaptureSlotsResult | undefined;
    const commands = await monitored(h.cluster.shards[2]!.server.url, async () => {
      result = await runRecapture({ slots: String(slot), redis: h.cluster.shards[0]!.url, config: config() }, () => undefined);
    }, () => h.servers[2]!.ping());
    // The records of the call's three keys in one read of the slot's record hash (one HMGET per key reads its state).
    expect(commands.filter((line) => line.includes(`"HMGET" "${divergentOf(slot)}"`))).toHaveLength(1);
    expect(commands.filter((line) => line.includes(`"HMGET" "${CHAOS_PREFIX}:`))).toHaveLength(3);
    await drained();
    await waitFor('the stale keys re-captured', async () => (await rowVersion(staleDeleted)) === 3 && (await rowVersion(stalePlus)) === 3, 20_000, 100);
    await sleep(1000);
    expect(await rowVersion(plus)).toBe(1);
    expect(result).toMatchObject({ mappedKeys: 3, captured: 2, skipped: 0, kept: 1 });
    expect(Object.keys(await h.servers[2]!.hGetAll(divergentOf(slot)))).toEqual([keyOf(plus)]);
  }, 90_000);

  it('backfill keeps the replicated value of a key changed with + on a shard after the first (counted as kept), and backfills one written again uncaptured since its +, dropping the record', async () => {
    startWorker();
    const [plus, stalePlus] = (await idsInOneSlot(2, 2, 4_000_000)) as [number, number];
    const slot = keySlot(keyOf(plus));
    await written([plus, stalePlus], 1);
    for (const id of [plus, stalePlus]) await h.client.hSet(keyOf(id), { ...chaosHashFields(id, 2), '#': '+' });
    await withoutCapture(h.servers[2]!, () => h.servers[2]!.hSet(keyOf(stalePlus), chaosHashFields(stalePlus, 3)));
    await drained();

    // Pointed at the first shard: the keys are found by scanning the third, and backfilled into their slot's log.
    const result = await runBackfill({ writer: CHAOS_WRITER, match: '40*', restart: true, redis: h.cluster.shards[0]!.url, config: config() }, undefined, () => undefined);
    expect(result.state).toMatchObject({ state: 'done', scanned: 2, captured: 1, kept: 1 });
    await waitFor('the stale key backfilled', async () => (await rowVersion(stalePlus)) === 3, 20_000, 100);
    await drained();
    await sleep(1000);
    expect(await rowVersion(plus)).toBe(1);
    expect(Object.keys(await h.servers[2]!.hGetAll(divergentOf(slot)))).toEqual([keyOf(plus)]);
  }, 90_000);
});
