/**
 * `#` `+` and `-` writes to a key whose slot is being moved by `writebehind reshard`, on a real Redis Cluster
 * (3 primaries, a runtime each): the write reaches the source while the key is still there (after `MIGRATING`,
 * before the `MIGRATE`), or the destination through `ASK` (after the `MIGRATE`, before `SETSLOT … NODE`). Either
 * way the key must stay apart from MySQL once the move is done and its keys re-captured: the row a `-` kept
 * stays, the value a `+` did not replicate stays unreplicated. The slots here hold no record yet (their first
 * `+`/`-` is the one written during the move).
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
import { ClusterAdmin } from '../../src/reshard/cluster-admin.js';
import { recaptureTarget } from '../../src/reshard/recapture-target.js';
import { reshard } from '../../src/reshard/reshard.js';
import { CLUSTER_SLOTS, keySlot } from '../../src/shared/key-slot.js';
import { partitionKeys } from '../../src/shared/keys.js';
import { useChaosCluster } from '../fixtures/chaos-cluster.js';

const h = useChaosCluster('migrating_divergent');
const keyOf = (id: number) => `${CHAOS_PREFIX}:${id}`;
const address = (shard: number) => new URL(h.cluster.shards[shard]!.url).host;
const divergentOf = (slot: number) => partitionKeys(CHAOS_WRITER, slot, CLUSTER_SLOTS).divergent;

function startWorker(): void {
  if (h.workers.length > 0) return;
  const file = writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-migrating-divergent-')), chaosConfig());
  h.workers.push(startCliProcess(['worker', '--redis', h.cluster.shards[0]!.url, '--mysql', h.db.url, '--config', file]));
}

async function rowVersion(id: number): Promise<number | null> {
  const rows = await h.db.query<Array<{ version: number | string }>>(`SELECT version FROM ${CHAOS_TABLE} WHERE person_id = ?`, [id]);
  return rows.length === 0 ? null : Number(rows[0]!.version);
}

/** An id from `from` on whose key lies on shard `owner`. */
async function idOn(owner: number, from: number): Promise<number> {
  for (let id = from; ; id++) if ((await h.cluster.ownerOf(keySlot(keyOf(id)))) === owner) return id;
}

type Moment = 'after MIGRATING' | 'after MIGRATE';

/**
 * Moves the slot of `id` from shard 0 to shard 1 with `writebehind reshard`, running `write` at `moment`:
 * after `SETSLOT … MIGRATING` (before the `MIGRATE`), or after the `MIGRATE` (before the first `SETSLOT … NODE`).
 */
async function moveWhile(id: number, moment: Moment, write: () => Promise<void>): Promise<void> {
  const slot = keySlot(keyOf(id));
  const admin = await ClusterAdmin.connect(h.cluster.shards[2]!.url);
  const send = admin.send.bind(admin);
  let done = false;
  admin.send = async (node, args) => {
    const at = moment === 'after MIGRATING' ? args[0] === 'MIGRATE' : args[0] === 'CLUSTER' && args[1] === 'SETSLOT' && args[3] === 'NODE';
    if (at && !done) {
      done = true;
      await write();
    }
    return send(node, args);
  };
  try {
    await reshard(admin, recaptureTarget(chaosConfig()), { from: address(0), to: address(1), slots: [slot], print: () => undefined });
  } finally {
    await admin.close();
  }
  expect(done).toBe(true);
  expect(await h.cluster.ownerOf(slot)).toBe(1);
}

const drained = () => waitFor('every capture log to drain', async () => (await clusterBacklog(h.servers)) === 0, 20_000, 200);

/** Written with the capture on at version 1, in MySQL; the key's slot holds no divergence record. */
async function replicated(id: number): Promise<void> {
  startWorker();
  await h.client.hSet(keyOf(id), chaosHashFields(id, 1));
  await waitFor(`${keyOf(id)} in MySQL`, async () => (await rowVersion(id)) === 1, 20_000, 100);
  expect(await h.servers[0]!.exists(divergentOf(keySlot(keyOf(id))))).toBe(0);
}

describe('# + and # - written to a key whose slot is migrating', () => {
  for (const moment of ['after MIGRATING', 'after MIGRATE'] as const) {
    it(`a + write ${moment} stays unreplicated once the slot is moved and re-captured`, async () => {
      const id = await idOn(0, moment === 'after MIGRATING' ? 4_000_000 : 4_100_000);
      await replicated(id);
      await moveWhile(id, moment, () => h.client.hSet(keyOf(id), { ...chaosHashFields(id, 2), '#': '+' }).then(() => undefined));
      await drained();
      await sleep(1000);
      expect(await h.servers[1]!.hGet(keyOf(id), 'version')).toBe('2');
      expect(await h.servers[1]!.hExists(keyOf(id), '#')).toBe(0);
      expect(await rowVersion(id), 'the + write was replicated').toBe(1);
      expect(await h.servers[1]!.hGet(divergentOf(keySlot(keyOf(id))), keyOf(id))).toMatch(/^\+[0-9a-f]{16}$/);
    }, 90_000);

    it(`a - write ${moment} deletes the hash and keeps its row once the slot is moved and re-captured`, async () => {
      const id = await idOn(0, moment === 'after MIGRATING' ? 4_200_000 : 4_300_000);
      await replicated(id);
      await moveWhile(id, moment, () => h.client.hSet(keyOf(id), '#', '-').then(() => undefined));
      await drained();
      await sleep(1000);
      expect(await h.client.exists(keyOf(id)), 'the - write did not delete the hash').toBe(0);
      expect(await rowVersion(id), 'the row a - kept was deleted').toBe(1);
      expect(await h.servers[1]!.hGet(divergentOf(keySlot(keyOf(id))), keyOf(id))).toBe('-');
    }, 90_000);
  }
});
