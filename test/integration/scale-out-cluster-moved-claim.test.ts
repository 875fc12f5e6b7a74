/**
 * A batch a dead worker holds, in a slot log whose slot then moves to another shard, is reclaimed and committed
 * there (docs/scale-out.md): the sequence the load test (scale-out-cluster.test.ts) meets now and then, made
 * deterministic. The new shard's library takes the log's count over with nothing open (every record was cut on
 * the old shard), and must still list the log as having a batch to commit, or no worker would look at it again
 * until a new record of it is cut: its records would never reach MySQL.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { awaitClusterDrain } from '../../bench/chaos/cluster-view.js';
import { chaosHashFields } from '../../bench/chaos/chaos-load.js';
import { CHAOS_PREFIX, CHAOS_TABLE, CHAOS_WRITER, chaosConfig } from '../../bench/chaos/chaos-schema.js';
import { writeConfigFile } from '../../bench/support/bench-config.js';
import { startCliProcess } from '../../bench/support/cli-process.js';
import { waitFor } from '../../bench/support/wait.js';
import { CLUSTER_SLOTS, keySlot } from '../../src/shared/key-slot.js';
import { WORKER_GROUP, partitionKeys } from '../../src/shared/keys.js';
import { LibraryFunction } from '../../src/shared/protocol.js';
import { useChaosCluster } from '../fixtures/chaos-cluster.js';

const h = useChaosCluster('cluster_moved_claim');

describe('a dead worker\'s batch in a slot log that moves to another shard', () => {
  it('is reclaimed and committed on the new shard, also when that shard took the log\'s count over with nothing open', async () => {
    const config = chaosConfig();
    const id = 1;
    const key = `${CHAOS_PREFIX}:${id}`;
    const slot = keySlot(key);
    const log = partitionKeys(CHAOS_WRITER, slot, CLUSTER_SLOTS);
    const from = await h.cluster.ownerOf(slot);
    await h.client.hSet(key, chaosHashFields(id, 1));
    // The old shard cuts the record (`ready`, as a worker's poll does), and a worker takes the batch and dies
    // (its XREADGROUP, then nothing: the descriptor stays pending for it).
    const node = createClient({ url: h.cluster.shards[from]!.url });
    node.on('error', () => undefined);
    await node.connect();
    try {
      await waitFor('the record to be cut', async () => {
        await node.sendCommand(['TFCALL', `${config.name}.${LibraryFunction.ready}`, '0', CHAOS_WRITER, '0', '100']);
        return (await h.servers[from]!.xLen(log.batches)) === 1;
      }, 5000, 50);
    } finally {
      await node.close();
    }
    const taken = await h.servers[from]!.sendCommand(['XREADGROUP', 'GROUP', WORKER_GROUP, 'dead', 'COUNT', '10', 'STREAMS', log.batches, '>']);
    expect(JSON.stringify(taken)).toContain(log.changes);

    const to = (from + 1) % h.cluster.shards.length;
    await h.cluster.moveSlot(slot, to);
    await waitFor('the slot to move', async () => (await h.cluster.ownerOf(slot)) === to, 5000, 50);
    // The new shard's library takes the log's count over, none of it open: its stream trigger does when its read
    // of the restored log comes after the move completed (under load); a `cut` far from due does the same when
    // that read met the slot still importing.
    expect(await h.client.sendCommand(log.changes, false, ['TFCALL', `${config.name}.${LibraryFunction.cut}`, '1', log.changes, '600000'])).toBeNull();

    const configFile = writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-moved-claim-')), config);
    const worker = startCliProcess(['worker', '--redis', h.cluster.shards[0]!.url, '--mysql', h.db.url, '--config', configFile, '--consumer', 'live', '--claim-min-idle-ms', '1000']);
    h.workers.push(worker);
    // Reclaimed after 1 s idle; the periodic sweep (every 30 s) comes later than this wait.
    expect(await awaitClusterDrain(h.servers, () => worker.tail(), 15_000)).toBeNull();
    expect(await h.db.query<unknown[]>(`SELECT 1 FROM ${CHAOS_TABLE} WHERE person_id = ${id}`)).toHaveLength(1);
    expect(worker.isRunning(), worker.tail()).toBe(true);
  }, 60_000);
});
