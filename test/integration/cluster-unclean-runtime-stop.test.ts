/**
 * A cluster primary's runtime that dies between a write it passed on and that write's capture (docs/runtime.md,
 * unclean stops): the write is on its shard, its client got no reply, and no capture of it exists. Each
 * primary's runtime marks itself running under its node's id and its store's hash tag; the runtime next in
 * front of the node finds the mark a dead one left and counts an unclean stop there; a worker, which finds every
 * primary's count, answers with a cluster-wide verify --repair and records the count, so it repairs once. A clean
 * restart counts nothing. The shard is not the one the worker was pointed at. A count whose name the worker
 * cannot guess from the topology (a store moved off its node's lowest slot) is found by the worker's SCAN.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chaosHashFields } from '../../bench/chaos/chaos-load.js';
import { CHAOS_PREFIX, CHAOS_TABLE, chaosConfig } from '../../bench/chaos/chaos-schema.js';
import { writeConfigFile } from '../../bench/support/bench-config.js';
import { startCliProcess } from '../../bench/support/cli-process.js';
import { waitFor } from '../../bench/support/wait.js';
import { keySlot, slotTag } from '../../src/shared/key-slot.js';
import { lowestSlot, myselfOf } from '../../src/shared/cluster-nodes.js';
import { RUNTIME_RUNNING_KEY, RUNTIME_UNCLEAN_STOPS_KEY, runtimeRunningKeyOfNode, runtimeUncleanStopsKeyOfNode, uncleanStopsRepairedOfNodesKey } from '../../src/shared/keys.js';
import { useChaosCluster } from '../fixtures/chaos-cluster.js';
import { withoutCapture } from './uncaptured-writes.js';

// Its stand-in for a lost write switches the notify flags off (uncaptured-writes.ts): the runtimes do not check them.
const h = useChaosCluster('cluster_unclean', { settingsCheckMs: 0 });
const SHARD = 1;

const keyOf = (id: number) => `${CHAOS_PREFIX}:${id}`;

type Direct = (typeof h.servers)[number];

/** The keys on one shard's redis-server whose names match `pattern`. */
async function keysOn(direct: Direct, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = (await direct.sendCommand(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '10000'])) as [string, string[]];
    cursor = String(next);
    found.push(...keys.map(String));
  } while (cursor !== '0');
  return found;
}

/** Ids from `from` on whose keys lie on shard `shard`. */
async function idOnShard(shard: number, from: number): Promise<number> {
  for (let id = from; ; id++) if ((await h.cluster.ownerOf(keySlot(keyOf(id)))) === shard) return id;
}

async function versionOf(id: number): Promise<number | undefined> {
  const [row] = await h.db.query<Array<{ version: number }>>(`SELECT version FROM ${CHAOS_TABLE} WHERE person_id = ?`, [id]);
  return row === undefined ? undefined : Number(row.version);
}

describe('a cluster runtime that stopped uncleanly', () => {
  it("leaves a write it never captured to a worker's repair; a clean restart counts nothing", async () => {
    // Each primary's runtime marked itself under its node's id and its store's tag, and created its count at 0.
    const names = await Promise.all(h.servers.map(async (direct) => {
      const id = String(await direct.sendCommand(['CLUSTER', 'MYID']));
      await waitFor('the runtime\'s mark', async () => (await keysOn(direct, `${RUNTIME_RUNNING_KEY}:*`)).length === 1, 10_000, 100);
      const [store] = await keysOn(direct, `__writebehind_runtime__:libraries:${id}:*`);
      const tag = /\{(.*)\}$/.exec(store!)![1]!;
      expect(await keysOn(direct, `${RUNTIME_RUNNING_KEY}:*`)).toEqual([runtimeRunningKeyOfNode(id, tag)]);
      expect(await direct.get(runtimeUncleanStopsKeyOfNode(id, tag))).toBe('0');
      return { running: runtimeRunningKeyOfNode(id, tag), stops: runtimeUncleanStopsKeyOfNode(id, tag) };
    }));
    expect(await keysOn(h.servers[SHARD]!, RUNTIME_UNCLEAN_STOPS_KEY)).toEqual([]);
    const { running, stops } = names[SHARD]!;
    // As if the node were new since the worker's last SCAN: its count is known only by the name the worker guesses
    // from the topology (the node's lowest slot).
    await h.servers[SHARD]!.del(stops);

    // A count the worker cannot guess from the topology (the store's tag is not its node's lowest slot's, as after
    // resharding moved the store): the worker's SCAN of every primary at its start finds it.
    const OTHER = 2;
    const otherId = String(await h.servers[OTHER]!.sendCommand(['CLUSTER', 'MYID']));
    const lowest = lowestSlot(myselfOf(String(await h.servers[OTHER]!.sendCommand(['CLUSTER', 'NODES'])))!);
    let lostElsewhere = await idOnShard(OTHER, 500);
    while (keySlot(keyOf(lostElsewhere)) === lowest) lostElsewhere = await idOnShard(OTHER, lostElsewhere + 1);
    const movedStops = runtimeUncleanStopsKeyOfNode(otherId, slotTag(keySlot(keyOf(lostElsewhere))));
    await h.servers[OTHER]!.set(movedStops, '0');

    const configFile = writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-cluster-unclean-')), chaosConfig());
    const worker = startCliProcess(['worker', '--redis', h.cluster.shards[0]!.url, '--mysql', h.db.url, '--config', configFile]);
    h.workers.push(worker);
    const captured = await idOnShard(SHARD, 100);
    await h.client.hSet(keyOf(captured), chaosHashFields(captured, 1));
    await waitFor('the captured row', async () => {
      expect(worker.isRunning(), worker.tail()).toBe(true);
      return (await versionOf(captured)) === 1;
    }, 30_000, 200);

    // What a SIGKILL between a write and its capture leaves: the write, no capture, and the runtime's mark.
    const lost = await idOnShard(SHARD, captured + 1);
    await withoutCapture(h.servers[SHARD]!, () => h.servers[SHARD]!.hSet(keyOf(lost), chaosHashFields(lost, 3)));
    await h.cluster.restartRuntime(SHARD, async () => {
      expect(await h.servers[SHARD]!.get(running)).toBeNull();
      await h.servers[SHARD]!.set(running, '4242');
    });
    expect(await h.servers[SHARD]!.get(stops)).toBe('1');
    expect(await h.servers[SHARD]!.get(running)).not.toBe('4242');

    await waitFor('the lost write\'s row', async () => {
      expect(worker.isRunning(), worker.tail()).toBe(true);
      return (await versionOf(lost)) === 3;
    }, 40_000, 200);
    await waitFor('the repair to be recorded', async () => (await h.client.hGet(uncleanStopsRepairedOfNodesKey(chaosConfig().name), stops)) === '1', 10_000, 100);
    expect(await versionOf(captured)).toBe(1);

    // A clean stop and start counts nothing, and the worker repairs no more.
    await h.cluster.restartRuntime(SHARD);
    expect(await h.servers[SHARD]!.get(stops)).toBe('1');
    expect(await h.servers[SHARD]!.get(running)).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect(worker.tail().match(/stopped uncleanly/g)?.length, worker.tail()).toBe(1);

    // The count only the SCAN found: its stop is repaired too.
    await withoutCapture(h.servers[OTHER]!, () => h.servers[OTHER]!.hSet(keyOf(lostElsewhere), chaosHashFields(lostElsewhere, 4)));
    await h.servers[OTHER]!.incr(movedStops);
    await waitFor('the row of the write lost on the other shard', async () => (await versionOf(lostElsewhere)) === 4, 40_000, 200);
    await waitFor('its repair to be recorded', async () => (await h.client.hGet(uncleanStopsRepairedOfNodesKey(chaosConfig().name), movedStops)) === '1', 10_000, 100);
    expect(worker.tail().match(/stopped uncleanly/g)?.length, worker.tail()).toBe(2);
  }, 120_000);
});

describe('a cluster node’s running mark and unclean-stop count gone by another hand while its runtime runs', () => {
  it('are set again by the runtime’s store guard: the mark after a DEL and a PEXPIRE 1, the count after a DEL', async () => {
    const direct = h.servers[SHARD]!;
    await waitFor('the runtime\'s mark', async () => (await keysOn(direct, `${RUNTIME_RUNNING_KEY}:*`)).length === 1, 10_000, 100);
    const [running] = await keysOn(direct, `${RUNTIME_RUNNING_KEY}:*`);
    // The runtime next in front of the node finds a mark and counts a stop: the count it holds is past 0.
    await h.cluster.restartRuntime(SHARD, async () => {
      await direct.set(running!, '4242');
    });
    const stops = running!.replace(RUNTIME_RUNNING_KEY, RUNTIME_UNCLEAN_STOPS_KEY);
    const count = await direct.get(stops);
    expect(Number(count)).toBeGreaterThan(0);
    const markIsBack = () => waitFor('the node’s mark set again', async () => (await direct.type(running!)) === 'string' && (await direct.pTTL(running!)) === -1, 3000, 25);

    await direct.del(running!);
    await markIsBack();
    await direct.pExpire(running!, 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await markIsBack();
    await direct.del(stops);
    await waitFor('the node’s count set again', async () => (await direct.get(stops)) === count, 3000, 25);
  }, 60_000);
});
