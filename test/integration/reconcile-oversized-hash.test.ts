/**
 * One hash too big to re-capture within the lock timeout (lock-redis-timeout kills the TFCALL it is in) must
 * not stop a backfill or a repair: every other key is captured, the big one is named. Before, it failed its
 * whole page of keys, and every run after it (the worker's repair after an unclean runtime stop retried it
 * forever), so the writes that repair was for never reached MySQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import type { WorkerService } from '../../src/worker/worker-service.js';
import { withoutCapture } from './uncaptured-writes.js';
import { startPipeline, until, type Pipeline, type TestClient } from './pipeline-helpers.js';

const SMALL = 30;
/**
 * Per mapped field of the big hash (all three mapped: 72 MB to read and append): far beyond what one capture does
 * in LOCK_TIMEOUT_MS (~25 ms a MB on a busy machine, a few ms a MB on a quiet one, where one 24 MB field was
 * captured in time and the test failed), so the big key's TFCALL is killed.
 */
const BIG_BYTES = 24 * 1024 * 1024;
const LOCK_TIMEOUT_MS = 100;

let p: Pipeline;
let direct: TestClient;
let worker: WorkerService;

beforeAll(async () => {
  p = await startPipeline('oversized', undefined, { settingsCheckMs: 0, lockTimeoutMs: LOCK_TIMEOUT_MS });
  direct = await p.newDirectClient();
  worker = await p.startWorker();
  await withoutCapture(direct, async () => {
    // The big hash sorts among the small ones in any SCAN page: one page holds them all.
    const big = 'x'.repeat(BIG_BYTES);
    await direct.hSet('person:big', { first_name: big, last_name: big, age: big });
    for (let i = 0; i < SMALL; i++) await direct.hSet(`person:s${i}`, { first_name: `F${i}` });
  });
}, 60_000);

afterAll(async () => {
  await worker?.close();
  await p?.close();
});

async function smallRows(): Promise<number> {
  const [row] = await p.db.query<Array<{ n: number }>>("SELECT COUNT(*) AS n FROM persons WHERE person_id LIKE 's%'");
  return Number(row?.n);
}

describe('a hash too big to re-capture within the lock timeout', () => {
  it('backfill captures every other key, names the big one and exits 1', { timeout: 60_000 }, async () => {
    const result = await runCli(['backfill', '--writer', 'PersonsWriteBehind', '--redis', p.runtime.url, '--config', p.configFile], { timeoutMs: 40_000 });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('person:big');
    expect(result.stderr).toContain('lock-redis-timeout');
    await until(smallRows, (n) => n === SMALL, 20_000);
  });

  it('verify --repair repairs every other key and names the big one', { timeout: 60_000 }, async () => {
    await p.db.query("DELETE FROM persons WHERE person_id LIKE 's%'");
    const result = await runCli(['verify', '--writer', 'PersonsWriteBehind', '--repair', '--redis', p.runtime.url, '--mysql', p.db.url, '--config', p.configFile], { timeoutMs: 40_000 });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout + result.stderr).toContain('person:big');
    await until(smallRows, (n) => n === SMALL, 20_000);
  });
});
