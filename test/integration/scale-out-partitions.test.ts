/**
 * `partitions: 4` on one Redis, end to end with worker processes: the writer's keys are captured into four
 * partition streams, each committed on its own (own batches, meta and exactly-once row), and the
 * unpartitioned stream a previous layout left a backlog in drains before any partition is written.
 * Afterwards every MySQL row equals its Redis hash, no version was applied twice, and each key's versions
 * reached MySQL in increasing order (an AFTER INSERT/UPDATE trigger records every application, in order).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedisClientType } from 'redis';
import { ChaosLoad } from '../../bench/chaos/chaos-load.js';
import { CHAOS_EXACTLY_ONCE_TABLE, CHAOS_WRITER, chaosConfig, chaosKeys, resetChaosTables } from '../../bench/chaos/chaos-schema.js';
import { writeConfigFile } from '../../bench/support/bench-config.js';
import { startPipeline, type Pipeline } from '../../bench/support/pipeline.js';
import { sleep } from '../../bench/support/sleep.js';
import { waitFor } from '../../bench/support/wait.js';
import { deployLibrary } from '../../src/deploy/deploy.js';
import { partitionsOf } from '../../src/shared/keys.js';
import { expectConsistent } from '../helpers/chaos-consistency.js';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';

const PARTITIONS = 4;
const partitionKeys = partitionsOf(CHAOS_WRITER, PARTITIONS);
const everyLog = [chaosKeys, ...partitionKeys];

let db: TestDatabase | undefined;
let pipeline: Pipeline | undefined;

afterEach(async () => {
  await pipeline?.close();
  await db?.drop();
  pipeline = undefined;
  db = undefined;
});

async function drained(direct: RedisClientType): Promise<void> {
  await waitFor('every capture and batches stream to drain', async () => {
    for (const keys of everyLog) if ((await direct.xLen(keys.changes)) + (await direct.xLen(keys.batches)) > 0) return false;
    return true;
  }, 30_000, 100);
}

describe('partitions: 4 on one Redis', () => {
  it('two workers drain every partition, one SIGKILLed mid-load: in order, nothing lost, nothing applied twice, one cursor row per partition', async () => {
    db = await createTestDatabase('partitions_load');
    await resetChaosTables(db);
    pipeline = await startPipeline({ config: chaosConfig({ partitions: PARTITIONS }), mysqlUrl: db.url });
    const workers = ['p1', 'p2'].map((consumer) => pipeline!.startWorker({ consumer, claimMinIdleMs: 1000 }));
    const direct = await pipeline.connectDirect();
    const load = new ChaosLoad(await pipeline.connect(), 200, 200);
    load.start();
    await sleep(3000);
    workers[1]!.signal('SIGKILL');
    await workers[1]!.exited;
    await sleep(3000);
    await load.stop();
    expect(load.counts.failed).toBe(0);

    await drained(direct);
    for (const keys of partitionKeys) {
      // Every partition received changes and was committed through its own meta.
      expect(await direct.hGet(keys.meta, 'committed'), keys.meta).not.toBeNull();
    }
    await expectConsistent(direct, db, load.outcomes, load.replyOrder);
    const cursors = await db.query<Array<{ id: string }>>(`SELECT id FROM ${CHAOS_EXACTLY_ONCE_TABLE} ORDER BY id`);
    expect(cursors.map((c) => c.id)).toEqual(partitionKeys.map((k) => k.changes).sort());
    expect(workers[0]!.isRunning()).toBe(true);
  }, 90_000);

  it('a backlog the unpartitioned library left drains before the partitions, keeping each key in order', async () => {
    db = await createTestDatabase('partitions_legacy');
    await resetChaosTables(db);
    pipeline = await startPipeline({ config: chaosConfig(), mysqlUrl: db.url });
    const direct = await pipeline.connectDirect();
    // Few keys, many versions each: every key has older versions in the unpartitioned stream and newer ones in
    // its partition, and the unpartitioned backlog takes a while to write.
    const load = new ChaosLoad(await pipeline.connect(), 20, 400);
    load.start();
    await sleep(2500);
    await deployLibrary({ redisUrl: pipeline.runtimeUrl, config: chaosConfig({ partitions: PARTITIONS }) });
    await sleep(2000);
    await load.stop();
    expect(load.counts.failed).toBe(0);
    expect(await direct.xLen(chaosKeys.changes)).toBeGreaterThan(0);
    for (const keys of partitionKeys) expect(await direct.xLen(keys.changes), keys.changes).toBeGreaterThan(0);

    const configFile = writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-partitions-')), chaosConfig({ partitions: PARTITIONS }));
    pipeline.startWorker({ consumer: 'p1', configFile });
    await drained(direct);
    await expectConsistent(direct, db, load.outcomes, load.replyOrder);
  }, 90_000);
});
