/**
 * `writebehind reshard` on a real Redis Cluster under a load from a cluster client, with a worker running:
 * slots move from shard 0 to 1 and from 1 to 2, one MIGRATE each, and afterwards every MySQL row equals its
 * hash, each key's versions were applied in order, and nothing was applied twice but what a re-capture appends
 * by design (the image current at the re-capture, once more).
 *
 * The runtimes are processes here, as in production (`writebehind runtime` per node): the reshard MIGRATEs to
 * the destination's runtime, and with every runtime inside the test's process a library call of the source's
 * runtime, reading synchronously from the source's redis-server while that server waits in MIGRATE for the
 * destination, stalls the destination's runtime too, until MIGRATE times out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, createCluster, type RedisClientType } from 'redis';
import { ChaosLoad } from '../../bench/chaos/chaos-load.js';
import { APPLIED_TABLE, CHAOS_PREFIX, chaosConfig, resetChaosTables } from '../../bench/chaos/chaos-schema.js';
import { appliedOutOfOrder, verifyRound } from '../../bench/chaos/chaos-verify.js';
import { clusterBacklog, clusterReadView } from '../../bench/chaos/cluster-view.js';
import { writeConfigFile } from '../../bench/support/bench-config.js';
import { startCliProcess, type CliProcess } from '../../bench/support/cli-process.js';
import { announcedOwnerOf } from '../../bench/support/cluster-slots.js';
import { startRuntimeClusterProcesses, type RuntimeClusterProcesses } from '../../bench/support/runtime-cluster-processes.js';
import { sleep } from '../../bench/support/sleep.js';
import { waitFor } from '../../bench/support/wait.js';
import { runReshard } from '../../src/cli/actions/reshard.js';
import { parseClusterNodes, slotsOf } from '../../src/shared/cluster-nodes.js';
import { deployLibrary } from '../../src/deploy/deploy.js';
import { keySlot } from '../../src/shared/key-slot.js';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';

let cluster: RuntimeClusterProcesses;
let db: TestDatabase;
let client: ReturnType<typeof createCluster>;
const servers: ReturnType<typeof createClient>[] = [];
let worker: CliProcess | undefined;
const url = (shard: number) => `redis://127.0.0.1:${cluster.ports[shard]}`;
const address = (shard: number) => `127.0.0.1:${cluster.ports[shard]}`;
const ownerOf = async (slot: number) => cluster.ports.indexOf(await announcedOwnerOf(cluster.servers[0]!.port, slot));

beforeAll(async () => {
  cluster = await startRuntimeClusterProcesses(3);
  db = await createTestDatabase('cluster_reshard_load');
  await resetChaosTables(db);
  await deployLibrary({ redisUrl: url(0), config: chaosConfig() });
  client = createCluster({ rootNodes: [{ url: url(0) }] });
  client.on('error', () => undefined);
  await client.connect();
  for (const server of cluster.servers) {
    const direct = createClient({ url: server.url });
    direct.on('error', () => undefined);
    await direct.connect();
    servers.push(direct);
  }
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await client?.close().catch(() => undefined);
  for (const direct of servers) await direct.close().catch(() => undefined);
  await cluster?.close();
  await db?.drop();
}, 30_000);

describe('writebehind reshard', () => {
  it('moves slots under a load with a worker running: MySQL equals Redis, each key in order, nothing applied twice but the one re-captured image', async () => {
    const configFile = writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-reshard-')), chaosConfig());
    worker = startCliProcess(['worker', '--redis', url(0), '--mysql', db.url, '--config', configFile, '--consumer', 'reshard']);
    const load = new ChaosLoad(client as unknown as RedisClientType, 200, 80);
    load.start();
    const writtenSlots = () => [...load.outcomes].filter(([, outcome]) => outcome !== 'uncertain' && !outcome.deleted).map(([id]) => keySlot(`${CHAOS_PREFIX}:${id}`));
    await waitFor('the load to write 60 keys', async () => writtenSlots().length >= 60, 30_000, 100);
    // Slots of keys the load wrote: four served by shard 0 move to shard 1, then four served by shard 1 to 2.
    const moved: number[] = [];
    for (const from of [0, 1]) {
      const slots: number[] = [];
      for (const slot of new Set(writtenSlots())) if (slots.length < 4 && !moved.includes(slot) && (await ownerOf(slot)) === from) slots.push(slot);
      expect(slots.length).toBeGreaterThan(0);
      const printed: string[] = [];
      const result = await runReshard({ from: address(from), to: address(from + 1), slots: slots.join(','), redis: url(2), config: configFile }, (line) => printed.push(line));
      expect(result.moves.map((move) => [move.slot, move.migrateCalls])).toEqual(slots.sort((a, b) => a - b).map((slot) => [slot, 1]));
      // A slot's only key may have been deleted by the load just before its move: count over the moves.
      expect(result.moves.reduce((keys, move) => keys + move.recapture.mappedKeys, 0)).toBeGreaterThan(0);
      expect(printed.at(-1)).toBe(`reshard: done, ${slots.length} slot(s) moved to ${address(from + 1)}`);
      for (const slot of slots) expect(await ownerOf(slot)).toBe(from + 1);
      moved.push(...slots);
    }
    await sleep(2000);
    await load.stop();
    expect(load.counts.failed).toBe(0);

    await waitFor('every capture log to drain', async () => (await clusterBacklog(servers)) === 0, 45_000, 200);
    const verdict = await verifyRound(clusterReadView(servers, client), db, load.outcomes, new Set());
    expect(verdict.examples).toEqual([]);
    expect(verdict.lost).toBe(0);
    // A re-capture appends the hash's current image again, so a moved key's version current at its re-capture
    // may be applied a second time (the same row image); nothing else is applied twice, nothing out of order.
    const inMoved = (id: number) => moved.includes(keySlot(`${CHAOS_PREFIX}:${id}`));
    const twice = await db.query<Array<{ person_id: number; version: number; n: number }>>(`SELECT person_id, version, COUNT(*) AS n FROM ${APPLIED_TABLE} GROUP BY person_id, version HAVING COUNT(*) > 1`);
    expect(twice.filter((row) => !inMoved(Number(row.person_id)) || Number(row.n) > 2)).toEqual([]);
    const order = await appliedOutOfOrder(db);
    const repeatOfRecaptured = (wrong: string) => {
      const [, id, version, previous] = /^cp:(\d+): v(\d+) after v(\d+)$/.exec(wrong)!;
      return inMoved(Number(id)) && version === previous;
    };
    expect(order.wrong.filter((wrong) => !repeatOfRecaptured(wrong))).toEqual([]);
    expect(order.applied).toBeGreaterThan(0);
  }, 120_000);

  it('--count moves that many of the source\'s slots, lowest first', async () => {
    const configFile = writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-reshard-')), chaosConfig());
    const nodes = parseClusterNodes(String(await servers[2]!.sendCommand(['CLUSTER', 'NODES'])));
    const lowest = slotsOf(nodes.find((node) => node.address === address(2))!).slice(0, 2);
    const result = await runReshard({ from: address(2), to: address(0), count: '2', redis: url(1), config: configFile }, () => undefined);
    expect(result.moves.map((move) => move.slot)).toEqual(lowest);
    for (const slot of lowest) expect(await ownerOf(slot)).toBe(0);
  }, 60_000);
});
