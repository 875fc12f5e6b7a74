/**
 * `writebehind worker --wait-replicas 1` on a Redis Cluster (3 primaries + 3 replicas, a runtime per node): while
 * one shard's replica acknowledges nothing (`DEBUG SLEEP` on it, still connected), a write to that shard stays
 * out of MySQL, and a write to another shard is committed meanwhile (only the slot logs of the shard without an
 * acknowledging replica wait); once the replica wakes, the first write is committed too.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { chaosHashFields } from '../../bench/chaos/chaos-load.js';
import { CHAOS_PREFIX, CHAOS_TABLE, chaosConfig } from '../../bench/chaos/chaos-schema.js';
import { writeConfigFile } from '../../bench/support/bench-config.js';
import { startCliProcess } from '../../bench/support/cli-process.js';
import { keySlot } from '../../src/shared/key-slot.js';
import { useChaosCluster } from '../fixtures/chaos-cluster.js';
import { until } from '../helpers/until.js';

const env = useChaosCluster('cluster_wait_replicas', { replicas: true, serverArgs: ['--enable-debug-command', 'yes'] });

/** The first chaos key id whose slot shard `shard` serves. */
async function idOnShard(shard: number): Promise<number> {
  for (let id = 1; ; id++) if ((await env.cluster.ownerOf(keySlot(`${CHAOS_PREFIX}:${id}`))) === shard) return id;
}

async function versionOf(id: number): Promise<number | null> {
  const rows = await env.db.query<Array<{ version: number }>>(`SELECT version FROM ${CHAOS_TABLE} WHERE person_id = ?`, [id]);
  return rows[0] === undefined ? null : Number(rows[0].version);
}

async function write(id: number, version: number): Promise<void> {
  await env.client.hSet(`${CHAOS_PREFIX}:${id}`, chaosHashFields(id, version));
}

describe('--wait-replicas on a Redis Cluster', () => {
  it("holds a shard's writes out of MySQL while its replica acknowledges nothing, commits other shards' meanwhile, and its own once the replica is back", async () => {
    const configFile = writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-wait-replicas-')), chaosConfig());
    env.workers.push(startCliProcess(['worker', '--redis', env.cluster.shards[0]!.url, '--mysql', env.db.url, '--config', configFile, '--consumer', 'waiting', '--wait-replicas', '1', '--wait-replicas-timeout', '300']));
    const [held, free] = [await idOnShard(1), await idOnShard(2)];
    await write(held, 1);
    await write(free, 1);
    await until(async () => [await versionOf(held), await versionOf(free)], ([a, b]) => a === 1 && b === 1, 30_000, 100);

    const replica = createClient({ url: env.cluster.shards[1]!.replica!.server.url });
    replica.on('error', () => undefined);
    await replica.connect();
    try {
      const asleep = replica.sendCommand(['DEBUG', 'SLEEP', '8']);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await write(held, 2);
      await write(free, 2);
      expect(await until(() => versionOf(free), (v) => v === 2, 6000, 100)).toBe(2);
      expect(await versionOf(held)).toBe(1);
      await asleep;
      expect(await until(() => versionOf(held), (v) => v === 2, 30_000, 100)).toBe(2);
    } finally {
      await replica.close().catch(() => undefined);
    }
  }, 90_000);
});
