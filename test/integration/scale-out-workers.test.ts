/**
 * Scale-out on one Redis: three worker processes share one writer through the `workers` consumer group while a
 * load runs; one is SIGKILLed in the middle. Afterwards every MySQL row equals its Redis hash, every deleted
 * key has no row, no row version was applied twice (exactly-once on), and each key's versions reached MySQL in
 * increasing order (an AFTER INSERT/UPDATE trigger records every application, in order).
 *
 * Runs the built runtime and worker as processes (npm test builds first), through the bench's pipeline helper.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosLoad } from '../../bench/chaos/chaos-load.js';
import { chaosConfig, chaosKeys, resetChaosTables } from '../../bench/chaos/chaos-schema.js';
import type { CliProcess } from '../../bench/support/cli-process.js';
import { startPipeline, type Pipeline } from '../../bench/support/pipeline.js';
import { sleep } from '../../bench/support/sleep.js';
import { waitFor } from '../../bench/support/wait.js';
import { expectConsistent } from '../helpers/chaos-consistency.js';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';

const LOAD_SECONDS = 6;
const LOAD_RATE = 150;
const KEYS = 300;

describe('three workers on one Redis, one SIGKILLed mid-load', () => {
  let db: TestDatabase;
  let pipeline: Pipeline;
  const workers: CliProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('scale_out');
    await resetChaosTables(db);
    pipeline = await startPipeline({ config: chaosConfig(), mysqlUrl: db.url });
    // A short reclaim delay, so the killed worker's batch is taken over within the test.
    for (const name of ['w1', 'w2', 'w3']) workers.push(pipeline.startWorker({ consumer: name, claimMinIdleMs: 1000 }));
  });

  afterAll(async () => {
    await pipeline?.close();
    await db?.drop();
  });

  it('keeps per-key order, loses nothing and applies nothing twice', async () => {
    const client = await pipeline.connect();
    const direct = await pipeline.connectDirect();
    const load = new ChaosLoad(client, KEYS, LOAD_RATE);
    load.start();
    await sleep((LOAD_SECONDS * 1000) / 2);
    workers[1]!.signal('SIGKILL');
    await workers[1]!.exited;
    await sleep((LOAD_SECONDS * 1000) / 2);
    await load.stop();
    expect(load.counts.failed).toBe(0);

    await waitFor('the capture stream to drain', async () => (await direct.xLen(chaosKeys.changes)) === 0, 20_000, 100);
    // Nothing is left pending with anyone, the dead consumer included: its batches were reclaimed or it held none.
    const pending = (await direct.sendCommand(['XPENDING', chaosKeys.batches, 'workers'])) as [number, ...unknown[]];
    expect(Number(pending[0])).toBe(0);
    await expectConsistent(direct, db, load.outcomes, load.replyOrder);
    // The two survivors are still running and did the work between them.
    expect(workers[0]!.isRunning() && workers[2]!.isRunning()).toBe(true);
  }, 60_000);
});
