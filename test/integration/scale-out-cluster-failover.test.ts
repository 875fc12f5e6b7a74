/**
 * A failover under load (3 primaries and 3 replicas on loopback, a runtime in front of each node, the
 * write-behind library deployed and a worker process running): one primary's redis-server is SIGKILLed while a
 * cluster client writes, its replica takes over (cluster-node-timeout 1 s) and its runtime starts capturing.
 * Afterwards every MySQL row equals its Redis hash, no version was applied twice, each key's versions reached
 * MySQL in increasing order, and there is one exactly-once row per committed slot log.
 *
 * Replication is asynchronous: a write the killed primary acknowledged just before dying may never have reached
 * its replica, and is then gone from Redis itself. For the keys of that shard the check is therefore MySQL
 * against Redis, not against what the client was told; for the other shards, against both.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedisClientType } from 'redis';
import { ChaosLoad, type KeyOutcome } from '../../bench/chaos/chaos-load.js';
import { clusterBacklog, clusterReadView } from '../../bench/chaos/cluster-view.js';
import { CHAOS_EXACTLY_ONCE_TABLE, CHAOS_PREFIX, chaosConfig } from '../../bench/chaos/chaos-schema.js';
import { writeConfigFile } from '../../bench/support/bench-config.js';
import { startCliProcess } from '../../bench/support/cli-process.js';
import { sleep } from '../../bench/support/sleep.js';
import { waitFor } from '../../bench/support/wait.js';
import { rediscoverWhenNodesDrop } from '../../src/worker/redis/cluster-rediscovery.js';
import { keySlot } from '../../src/shared/key-slot.js';
import { expectConsistent } from '../helpers/chaos-consistency.js';
import { useChaosCluster } from '../fixtures/chaos-cluster.js';
import { connectTestClient, type TestClient } from '../helpers/redis-client.js';

const KEYS = 200;
/** The shard whose primary is killed (not shard 0, whose runtime the clients and the worker start from). */
const FAILED = 1;

// As the worker's client does: it finds the promoted replica once the dead primary's connection drops.
const h = useChaosCluster('cluster_failover', { replicas: true, nodeTimeoutMs: 1000 }, rediscoverWhenNodesDrop);
const directs: TestClient[] = [];

const direct = (url: string) => connectTestClient(url, directs);

afterAll(async () => {
  for (const connection of directs) await connection.close().catch(() => undefined);
}, 30_000);

describe('the write-behind on a Redis Cluster with replicas', () => {
  it("a primary SIGKILLed under load is replaced by its replica, whose runtime captures from then on: MySQL equals Redis, in order, nothing applied twice", async () => {
    const configFile = writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-failover-')), chaosConfig());
    const worker = startCliProcess(['worker', '--redis', h.cluster.shards[0]!.url, '--mysql', h.db.url, '--config', configFile, '--consumer', 'c1']);
    h.workers.push(worker);
    // The keys whose slots the failed shard serves, read before the kill (no slot moves in this test).
    const onFailedShard = new Set<number>();
    for (let id = 1; id <= KEYS; id++) if ((await h.cluster.ownerOf(keySlot(`${CHAOS_PREFIX}:${id}`))) === FAILED) onFailedShard.add(id);
    expect(onFailedShard.size).toBeGreaterThan(0);
    const load = new ChaosLoad(h.client as unknown as RedisClientType, KEYS, 60);
    load.start();
    await sleep(2500);

    const failed = h.cluster.shards[FAILED]!;
    const promoted = failed.replica!;
    await failed.server.kill();
    const promotedServer = await direct(promoted.server.url);
    await waitFor('the replica to take over', async () => ((await promotedServer.sendCommand(['ROLE'])) as unknown as string[])[0] === 'master', 15_000, 50);
    await sleep(3000);
    await load.stop();

    const primaries = [h.cluster.shards[0]!.server, promoted.server, h.cluster.shards[2]!.server];
    const servers = await Promise.all(primaries.map((server) => direct(server.url)));
    await waitFor('every capture log to drain', async () => (await clusterBacklog(servers)) === 0, 45_000, 200);
    expect(worker.isRunning(), worker.tail()).toBe(true);

    // The promoted node's runtime captured the writes it took after the failover.
    const capture = await captureTriggerStats(promoted.url);
    expect(capture['num_trigger']).toBeGreaterThan(0);
    expect(capture['num_failed']).toBe(0);
    // Nor did any capture fail on the other primaries: the cluster was down until the replica took over, and a
    // capture whose write ran just before that refused its calls (CLUSTERDOWN) fired again once it was back up.
    for (const shard of [h.cluster.shards[0]!, h.cluster.shards[2]!]) {
      const other = await captureTriggerStats(shard.url);
      expect(other['num_failed'], JSON.stringify(other)).toBe(0);
      expect(other['num_finished']).toBe(other['num_trigger']);
    }

    // Keys of the failed-over shard: MySQL against Redis only (see the header). By slot, not by the keys the
    // promoted node holds: a key whose every acknowledged write died with the primary is on neither.
    const outcomes = new Map<number, KeyOutcome>([...load.outcomes].filter(([id]) => !onFailedShard.has(id)));
    await expectConsistent(clusterReadView(servers, h.client), h.db, outcomes, load.replyOrder);

    const cursors = await h.db.query<Array<{ id: string }>>(`SELECT id FROM ${CHAOS_EXACTLY_ONCE_TABLE}`);
    const committedLogs = new Set<string>();
    for (const server of servers) {
      for await (const metas of server.scanIterator({ MATCH: 'wb:meta:*', COUNT: 1000 })) {
        for (const meta of metas) if ((await server.hGet(meta, 'committed')) !== null) committedLogs.add(meta.replace('wb:meta:', 'wb:changes:'));
      }
    }
    expect(new Set(cursors.map((c) => c.id))).toEqual(committedLogs);
  }, 90_000);
});

/** The write-behind library's capture trigger counters on one runtime (TFUNCTION LIST vv). */
async function captureTriggerStats(url: string): Promise<Record<string, unknown>> {
  const libraries = (await (await direct(url)).sendCommand(['TFUNCTION', 'LIST', 'vv'])) as unknown[][];
  const fields = (flat: unknown[]) => Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [String(flat[2 * i]), flat[2 * i + 1]]));
  const [trigger] = fields(libraries[0]!)['keyspace_triggers'] as unknown[][];
  return fields(trigger!);
}
