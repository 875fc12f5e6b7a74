/**
 * Moving slots that hold capture logs on a real Redis Cluster (3 primaries on loopback, a runtime in front of
 * each), docs/scale-out.md, slot migration: the window between a slot's MIGRATE and `SETSLOT … NODE` in which
 * a write reaches the new node through ASK but is not captured, `writebehind recapture --slots` that repairs
 * it, and `status` warning about a slot in migration. `writebehind reshard` under a load is in
 * scale-out-reshard-load.test.ts (runtime processes).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chaosHashFields } from '../../bench/chaos/chaos-load.js';
import { CHAOS_PREFIX, CHAOS_TABLE, CHAOS_WRITER, chaosConfig } from '../../bench/chaos/chaos-schema.js';
import { writeConfigFile } from '../../bench/support/bench-config.js';
import { startCliProcess } from '../../bench/support/cli-process.js';
import { sleep } from '../../bench/support/sleep.js';
import { clusterBacklog } from '../../bench/chaos/cluster-view.js';
import { waitFor } from '../../bench/support/wait.js';
import { runDlq } from '../../src/cli/actions/dlq.js';
import { runRecapture } from '../../src/cli/actions/recapture.js';
import { runStatus } from '../../src/cli/actions/status.js';
import { ClusterAdmin } from '../../src/reshard/cluster-admin.js';
import { recaptureSlot } from '../../src/reshard/recapture-slots.js';
import { recaptureTarget } from '../../src/reshard/recapture-target.js';
import { keySlot } from '../../src/shared/key-slot.js';
import { useChaosCluster } from '../fixtures/chaos-cluster.js';
import { runCli } from '../helpers/cli.js';
import { connectTestClient } from '../helpers/redis-client.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { findFreePort } from '../../bench/support/redis-server-process.js';

const h = useChaosCluster('cluster_reshard');
const configFile = () => writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-reshard-')), chaosConfig());
const address = (url: string) => new URL(url).host;

async function startWorker(consumer: string): Promise<void> {
  h.workers.push(startCliProcess(['worker', '--redis', h.cluster.shards[0]!.url, '--mysql', h.db.url, '--config', configFile(), '--consumer', consumer]));
}

async function rowVersion(id: number): Promise<number | null> {
  const rows = await h.db.query<Array<{ version: number | string }>>(`SELECT version FROM ${CHAOS_TABLE} WHERE person_id = ${id}`);
  return rows.length === 0 ? null : Number(rows[0]!.version);
}

/** The chaos writer's capture trigger's `num_failed` on one runtime (TFUNCTION LIST vv, RESP2 name/value lists). */
async function failedCaptures(url: string): Promise<number> {
  const client = await connectTestClient(url, []);
  try {
    const libraries = (await client.sendCommand(['TFUNCTION', 'LIST', 'vv'])) as unknown[][];
    const fields = (flat: unknown[]) => Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [String(flat[2 * i]), flat[2 * i + 1]]));
    for (const library of libraries) {
      for (const trigger of fields(library)['keyspace_triggers'] as unknown[][]) {
        const stats = fields(trigger);
        if (stats['name'] === CHAOS_WRITER) return Number(stats['num_failed']);
      }
    }
    throw new Error(`no trigger ${CHAOS_WRITER} on ${url}`);
  } finally {
    await client.close();
  }
}

/** Starts moving `slot` by hand from shard `from` to shard `to`: IMPORTING on the target, then MIGRATING on the source. */
async function beginMove(slot: number, from: number, to: number) {
  const [source, target] = [h.servers[from]!, h.servers[to]!];
  const [sourceId, targetId] = await Promise.all([source, target].map(async (server) => String(await server.sendCommand(['CLUSTER', 'MYID'])))) as [string, string];
  await target.sendCommand(['CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', sourceId]);
  await source.sendCommand(['CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', targetId]);
  return { source, target, sourceId, targetId };
}

/** An id whose key's slot is served by shard `owner` and holds no other chaos key below `limit`. */
async function idOnShard(owner: number, from: number, limit = 2000): Promise<number> {
  const taken = new Set(Array.from({ length: limit }, (_, i) => keySlot(`${CHAOS_PREFIX}:${i + 1}`)));
  for (let id = from; ; id++) {
    const slot = keySlot(`${CHAOS_PREFIX}:${id}`);
    if (!taken.has(slot) && (await h.cluster.ownerOf(slot)) === owner) return id;
  }
}

describe('moving slots that hold capture logs', () => {
  it('writes that reach the new node through ASK while their slot moves (a new key once MIGRATING, a change between MIGRATE and SETSLOT NODE) are not captured, and writebehind recapture --slots makes MySQL equal Redis', async () => {
    await startWorker('window');
    const id = await idOnShard(0, 900_000);
    const key = `${CHAOS_PREFIX}:${id}`;
    const slot = keySlot(key);
    let created = 1_000_000;
    while (keySlot(`${CHAOS_PREFIX}:${created}`) !== slot) created++;
    const newKey = `${CHAOS_PREFIX}:${created}`;
    await h.client.hSet(key, chaosHashFields(id, 1));
    await waitFor('version 1 in MySQL', async () => (await rowVersion(id)) === 1, 20_000, 100);

    // The slot move, by hand on the redis-servers, stopped inside its window.
    const { source, target, sourceId, targetId } = await beginMove(slot, 0, 1);
    // A MIGRATING slot takes no new key: the source sends it to the target with ASK, where an application
    // follows it (ASKING) to the target's runtime.
    const failedBefore = await failedCaptures(h.cluster.shards[1]!.url);
    const application = await connectTestClient(h.cluster.shards[1]!.url, []);
    const sourceApplication = await connectTestClient(h.cluster.shards[0]!.url, []);
    await expect(sourceApplication.hSet(newKey, chaosHashFields(created, 1))).rejects.toThrow(/^ASK /);
    await sourceApplication.close();
    expect(await application.sendCommand(['ASKING'])).toBe('OK');
    expect(await application.sendCommand(['HSET', newKey, ...Object.entries(chaosHashFields(created, 1)).flat()])).toBe(4);
    expect(await failedCaptures(h.cluster.shards[1]!.url)).toBe(failedBefore + 1);
    const keys = (await source.sendCommand(['CLUSTER', 'GETKEYSINSLOT', String(slot), '1000'])) as string[];
    expect(keys).toContain(key);
    expect(await source.sendCommand(['MIGRATE', '127.0.0.1', String(h.cluster.shards[1]!.server.port), '', '0', '10000', 'KEYS', ...keys])).toBe('OK');
    // In the window: the source redirects the key with ASK; the application follows it to the target's runtime.
    try {
      await expect(application.hSet(key, chaosHashFields(id, 2))).rejects.toThrow(/^MOVED /);
      expect(await application.sendCommand(['ASKING'])).toBe('OK');
      expect(await application.sendCommand(['HSET', key, ...Object.entries(chaosHashFields(id, 2)).flat()])).toBe(0);
    } finally {
      await application.close();
    }
    expect(await failedCaptures(h.cluster.shards[1]!.url)).toBe(failedBefore + 2);
    await target.sendCommand(['CLUSTER', 'SETSLOT', String(slot), 'NODE', targetId]);
    await source.sendCommand(['CLUSTER', 'SETSLOT', String(slot), 'NODE', targetId]);
    expect(await h.cluster.ownerOf(slot)).toBe(1);
    expect(await h.client.hGet(key, 'version')).toBe('2');

    // Both changes were lost: every log drains, MySQL keeps version 1 and has no row for the new key.
    await waitFor('every capture log to drain', async () => (await clusterBacklog(h.servers)) === 0, 20_000, 200);
    await sleep(1000);
    expect(await rowVersion(id)).toBe(1);
    expect(await rowVersion(created)).toBeNull();

    const printed: string[] = [];
    const result = await runRecapture({ slots: String(slot), redis: h.cluster.shards[2]!.url, config: configFile() }, (line) => printed.push(line));
    expect(result).toMatchObject({ slots: 1, mappedKeys: 2, captured: 2 });
    expect(printed.at(-1)).toMatch(/^recapture: 1 of 1 slot\(s\), 2 mapped key\(s\), captured 2, .*; done$/);
    await waitFor('version 2 in MySQL', async () => (await rowVersion(id)) === 2, 20_000, 100);
    await waitFor('the new key in MySQL', async () => (await rowVersion(created)) === 1, 20_000, 100);
  }, 90_000);

  it('a key deleted through ASK in the window fails its capture on the new node (num_failed, the key in last_error) and is not among the slot\'s keys any more: recapture --slots misses it, the re-capture of the migrated keys (what reshard does) deletes its row', async () => {
    const id = await idOnShard(0, 970_000);
    const key = `${CHAOS_PREFIX}:${id}`;
    const slot = keySlot(key);
    await h.client.hSet(key, chaosHashFields(id, 1));
    await waitFor('version 1 in MySQL', async () => (await rowVersion(id)) === 1, 20_000, 100);
    const { source, target, sourceId, targetId } = await beginMove(slot, 0, 1);
    const keys = (await source.sendCommand(['CLUSTER', 'GETKEYSINSLOT', String(slot), '1000'])) as string[];
    expect(await source.sendCommand(['MIGRATE', '127.0.0.1', String(h.cluster.shards[1]!.server.port), '', '0', '10000', 'KEYS', ...keys])).toBe('OK');
    const failedBefore = await failedCaptures(h.cluster.shards[1]!.url);
    const application = await connectTestClient(h.cluster.shards[1]!.url, []);
    expect(await application.sendCommand(['ASKING'])).toBe('OK');
    expect(await application.sendCommand(['DEL', key])).toBe(1);
    await application.close();
    // Counted as failed, naming the key: the slot is IMPORTING on this node, so the DEL came here with ASKING
    // (the source's own `del` of a MIGRATE meets a slot MIGRATING or gone there, and is skipped).
    expect(await failedCaptures(h.cluster.shards[1]!.url)).toBe(failedBefore + 1);
    const printed: string[] = [];
    const report = await runStatus({ redis: h.cluster.shards[2]!.url, config: configFile() }, (text) => printed.push(text));
    expect(report.writers.find((w) => w.writer === CHAOS_WRITER)?.lastCaptureError).toContain(`del of ${key}`);
    expect(printed.join('\n')).toMatch(new RegExp(`FAILED CAPTURES .*del of ${key}.*slot ${slot} is IMPORTING here`));
    await target.sendCommand(['CLUSTER', 'SETSLOT', String(slot), 'NODE', targetId]);
    await source.sendCommand(['CLUSTER', 'SETSLOT', String(slot), 'NODE', targetId]);

    await waitFor('every capture log to drain', async () => (await clusterBacklog(h.servers)) === 0, 20_000, 200);
    expect(await runRecapture({ slots: String(slot), redis: h.cluster.shards[2]!.url, config: configFile() }, () => undefined)).toMatchObject({ mappedKeys: 0, captured: 0 });
    await sleep(1000);
    expect(await rowVersion(id)).toBe(1);
    const admin = await ClusterAdmin.connect(h.cluster.shards[2]!.url);
    try {
      expect(await recaptureSlot(admin, recaptureTarget(chaosConfig()), slot, { alsoKeys: keys })).toMatchObject({ mappedKeys: 1, captured: 1 });
    } finally {
      await admin.close();
    }
    await waitFor('the row to be deleted', async () => (await rowVersion(id)) === null, 20_000, 100);
  }, 90_000);

  it('a DEL on the source of a hash not yet moved, once its slot is MIGRATING, is skipped as if the migration had moved it (not counted), and only a re-capture of the key deletes its row', async () => {
    const id = await idOnShard(0, 1_200_000);
    const key = `${CHAOS_PREFIX}:${id}`;
    const slot = keySlot(key);
    await h.client.hSet(key, chaosHashFields(id, 1));
    await waitFor('version 1 in MySQL', async () => (await rowVersion(id)) === 1, 20_000, 100);
    const { source, target, sourceId, targetId } = await beginMove(slot, 0, 1);
    try {
      const failedBefore = await failedCaptures(h.cluster.shards[0]!.url);
      const application = await connectTestClient(h.cluster.shards[0]!.url, []);
      expect(await application.sendCommand(['DEL', key])).toBe(1);
      await application.close();
      // The capture's HMGET of the key, now missing from a MIGRATING slot, meets ASK: taken for a MIGRATE's del.
      expect(await failedCaptures(h.cluster.shards[0]!.url)).toBe(failedBefore);
    } finally {
      const keys = (await source.sendCommand(['CLUSTER', 'GETKEYSINSLOT', String(slot), '1000'])) as string[];
      if (keys.length > 0) await source.sendCommand(['MIGRATE', '127.0.0.1', String(h.cluster.shards[1]!.server.port), '', '0', '10000', 'KEYS', ...keys]);
      await target.sendCommand(['CLUSTER', 'SETSLOT', String(slot), 'NODE', targetId]);
      await source.sendCommand(['CLUSTER', 'SETSLOT', String(slot), 'NODE', targetId]);
    }
    await waitFor('every capture log to drain', async () => (await clusterBacklog(h.servers)) === 0, 20_000, 200);
    await sleep(1000);
    expect(await rowVersion(id)).toBe(1);
    const admin = await ClusterAdmin.connect(h.cluster.shards[2]!.url);
    try {
      expect(await recaptureSlot(admin, recaptureTarget(chaosConfig()), slot, { alsoKeys: [key] })).toMatchObject({ mappedKeys: 1, captured: 1 });
    } finally {
      await admin.close();
    }
    await waitFor('the row to be deleted', async () => (await rowVersion(id)) === null, 20_000, 100);
  }, 90_000);

  it('writebehind recapture --slots on a slot still migrating names the slot, where it is MIGRATING and IMPORTING and how to finish the move, exits 1, and still re-captures the other slots given', async () => {
    if (h.workers.length === 0) await startWorker('recapture-migrating');
    const stableId = await idOnShard(2, 980_000);
    const stableSlot = keySlot(`${CHAOS_PREFIX}:${stableId}`);
    const movingId = await idOnShard(0, 990_000);
    const slot = keySlot(`${CHAOS_PREFIX}:${movingId}`);
    let leftId = 1_100_000;
    while (keySlot(`${CHAOS_PREFIX}:${leftId}`) !== slot) leftId++;
    const leftKey = `${CHAOS_PREFIX}:${leftId}`;
    for (const id of [stableId, movingId, leftId]) await h.client.hSet(`${CHAOS_PREFIX}:${id}`, chaosHashFields(id, 1));
    for (const id of [stableId, movingId, leftId]) await waitFor(`${id} v1 in MySQL`, async () => (await rowVersion(id)) === 1, 20_000, 100);
    // Lost by hand: only a re-capture of its slot brings it back.
    await h.db.query(`DELETE FROM ${CHAOS_TABLE} WHERE person_id = ${stableId}`);

    // The slot moved by hand, every key but one migrated (the capture log with them): a move left half done.
    const { source, target, sourceId, targetId } = await beginMove(slot, 0, 1);
    const keys = ((await source.sendCommand(['CLUSTER', 'GETKEYSINSLOT', String(slot), '1000'])) as string[]).filter((k) => k !== leftKey);
    const targetPort = String(h.cluster.shards[1]!.server.port);
    expect(await source.sendCommand(['MIGRATE', '127.0.0.1', targetPort, '', '0', '10000', 'KEYS', ...keys])).toBe('OK');
    try {
      const result = await runCli(['recapture', '--slots', `${stableSlot},${slot}`, '--redis', h.cluster.shards[2]!.url, '--config', configFile()], { timeoutMs: 60_000 });
      expect(result.code, result.stderr).toBe(1);
      const [sourceAt, targetAt] = [address(h.cluster.shards[0]!.url), address(h.cluster.shards[1]!.url)];
      expect(result.stderr).toContain(`slot ${slot} is MIGRATING on ${sourceAt} and IMPORTING on ${targetAt}`);
      expect(result.stderr).toMatch(/writebehind reshard/);
      expect(result.stderr).toMatch(/redis-cli --cluster fix/);
      expect(result.stderr).toContain(`then writebehind recapture --slots ${slot}`);
      await waitFor('the other slot re-captured', async () => (await rowVersion(stableId)) === 1, 20_000, 100);
    } finally {
      await source.sendCommand(['MIGRATE', '127.0.0.1', targetPort, '', '0', '10000', 'KEYS', leftKey]);
      await target.sendCommand(['CLUSTER', 'SETSLOT', String(slot), 'NODE', targetId]);
      await source.sendCommand(['CLUSTER', 'SETSLOT', String(slot), 'NODE', targetId]);
    }
  }, 90_000);

  it("a key recapture cannot capture (no id) is dead-lettered in its slot's log, and dlq list shows recapture as the event that met it", async () => {
    const key = `${CHAOS_PREFIX}:`;
    const admin = await ClusterAdmin.connect(h.cluster.shards[2]!.url);
    try {
      expect(await recaptureSlot(admin, recaptureTarget(chaosConfig()), keySlot(key), { alsoKeys: [key] })).toMatchObject({ mappedKeys: 1, captured: 0, deadLettered: 1 });
    } finally {
      await admin.close();
    }
    const printed: string[] = [];
    const listed = await runDlq({ action: 'list', writer: CHAOS_WRITER, redis: h.cluster.shards[0]!.url, config: configFile() }, (text) => printed.push(text));
    expect(listed.letters.find((l) => l.key === key)).toMatchObject({ stage: 'capture', event: 'recapture' });
    expect(printed.find((line) => line.includes(`  ${key}  `))).toMatch(new RegExp(`  capture \\(recapture\\)  ${key}  key ${key} has no id`));
  }, 60_000);

  it('writebehind status warns about a slot MIGRATING on one primary and IMPORTING on another, and stops once the slot is stable', async () => {
    const slot = keySlot(`${CHAOS_PREFIX}:${await idOnShard(2, 950_000)}`);
    const { source, target, sourceId, targetId } = await beginMove(slot, 2, 0);
    const [sourceAt, targetAt] = [address(h.cluster.shards[2]!.url), address(h.cluster.shards[0]!.url)];
    try {
      const printed: string[] = [];
      const report = await runStatus({ redis: h.cluster.shards[1]!.url, config: configFile() }, (text) => printed.push(text));
      expect(report.slotMigrations).toEqual([
        { slot, state: 'importing', node: targetAt, peer: sourceAt },
        { slot, state: 'migrating', node: sourceAt, peer: targetAt },
      ]);
      expect(printed.join('\n')).toContain(`WARNING: slot ${slot} is MIGRATING on ${sourceAt} (to ${targetAt})`);
      expect(printed.join('\n')).toContain(`writebehind recapture --slots ${slot}`);
    } finally {
      await source.sendCommand(['CLUSTER', 'SETSLOT', String(slot), 'STABLE']);
      await target.sendCommand(['CLUSTER', 'SETSLOT', String(slot), 'STABLE']);
    }
    const printed: string[] = [];
    expect((await runStatus({ redis: h.cluster.shards[1]!.url, config: configFile() }, (text) => printed.push(text))).slotMigrations).toEqual([]);
    expect(printed.join('\n')).not.toContain('WARNING');
  }, 60_000);

  it('reshard and recapture refuse bad options with exit 2, naming the option; --help lists them', async () => {
    const [from, to] = [0, 1].map((i) => address(h.cluster.shards[i]!.url)) as [string, string];
    const redis = h.cluster.shards[2]!.url;
    const config = configFile();
    const notFrom = keySlot(`${CHAOS_PREFIX}:${await idOnShard(1, 960_000)}`);
    const single = await startRedisServer();
    try {
      const cases: Array<[string[], RegExp]> = [
        [['recapture', '--redis', redis, '--config', config], /--slots: is required/],
        [['recapture', '--slots', '1,x', '--redis', redis, '--config', config], /--slots: 'x' is not a slot/],
        [['recapture', '--slots', '1', '--redis', single.url, '--config', config], /--redis: the Redis there is not a Redis Cluster node/],
        [['reshard', '--from', from, '--to', to, '--redis', redis, '--config', config], /--slots: give exactly one of --slots and --count/],
        [['reshard', '--from', from, '--to', to, '--count', '0', '--redis', redis, '--config', config], /--count: must be at least 1/],
        [['reshard', '--from', 'nowhere', '--to', to, '--slots', '1', '--redis', redis, '--config', config], /--from: must be a node id/],
        [['reshard', '--from', '127.0.0.1:1', '--to', to, '--slots', '1', '--redis', redis, '--config', config], /--from: '127\.0\.0\.1:1' is no node of the cluster/],
        [['reshard', '--from', from, '--to', from, '--slots', '1', '--redis', redis, '--config', config], /--from and --to name the same node/],
        [['reshard', '--from', from, '--to', to, '--slots', String(notFrom), '--redis', redis, '--config', config], new RegExp(`--slots: slot ${notFrom} is not served by --from ${from}`)],
      ];
      const results = await Promise.all(cases.map(([args]) => runCli(args, { timeoutMs: 60_000 })));
      results.forEach((result, i) => {
        expect.soft(result.code, `${cases[i]![0].join(' ')}: ${result.stderr}`).toBe(2);
        expect.soft(result.stderr, cases[i]![0].join(' ')).toMatch(cases[i]![1]);
      });
      expect(await h.cluster.ownerOf(notFrom)).toBe(1);
      const help = await runCli(['reshard', '--help']);
      for (const option of ['--from', '--to', '--slots', '--count', '--migrate-timeout-ms', '--redis', '--config']) expect(help.stdout).toContain(option);
      expect((await runCli(['recapture', '--help'])).stdout).toContain('--slots <list>');
      expect((await runCli(['--help'])).stdout).toMatch(/reshard[\s\S]*recapture/);
    } finally {
      await single.stop();
    }
  }, 90_000);

  it('writebehind status still reports the writers when a primary does not answer while slot migrations are listed, and says the migrations are unknown and why', async () => {
    // A fourth primary (no slots, so no writer's log is there) that the cluster announces at a closed port.
    const closedPort = await findFreePort();
    const extra = await startRedisServer({ extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-announce-port', String(closedPort), '--cluster-node-timeout', '2000'] });
    const direct = await connectTestClient(extra.url, []);
    const extraId = String(await direct.sendCommand(['CLUSTER', 'MYID']));
    await direct.close();
    try {
      await h.servers[0]!.sendCommand(['CLUSTER', 'MEET', '127.0.0.1', String(extra.port)]);
      const entry = h.cluster.shards[1]!;
      const entryServer = h.servers[1]!;
      await waitFor('the fourth primary known at its announced port', async () => String(await entryServer.sendCommand(['CLUSTER', 'NODES'])).split('\n').some((line) => line.startsWith(extraId) && line.includes(`127.0.0.1:${closedPort}@`) && / master /.test(line) && !/handshake|fail|noaddr/.test(line)), 20_000, 200);
      const printed: string[] = [];
      const report = await runStatus({ redis: entry.url, config: configFile() }, (text) => printed.push(text));
      expect(report.slotMigrations).toBeNull();
      expect(report.slotMigrationsError).toContain(`127.0.0.1:${closedPort}`);
      expect(report.writers.map((w) => w.writer)).toEqual([CHAOS_WRITER]);
      expect(report.libraryVersion).not.toBeNull();
      expect(printed.join('\n')).toContain(`slots in migration: unknown (`);
      expect(printed.join('\n')).toContain(`${CHAOS_WRITER}: backlog`);
    } finally {
      await extra.stop();
      await Promise.all(h.servers.map((server) => server.sendCommand(['CLUSTER', 'FORGET', extraId]).catch(() => undefined)));
    }
  }, 60_000);
});
