/**
 * `writebehind backfill`, run as the user runs it (the built CLI in its own process) against a live pipeline:
 * hashes written straight to the redis-server before any capture existed reach MySQL through the library and
 * the worker, while a live load keeps updating some of them; an interrupted run resumes from its cursor.
 *
 * The first test's size: BACKFILL_TEST_KEYS (default 50000, as the issue asks; ~40 s of backfill and drain on
 * the runtime on two shared cores).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStatus } from '../../src/cli/actions/status.js';
import { writerKeys } from '../../src/shared/keys.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import type { WorkerService } from '../../src/worker/worker-service.js';
import { withoutCapture } from './uncaptured-writes.js';
import { exited, startPipeline, until, waitDrained, type Pipeline, type TestClient } from './pipeline-helpers.js';

const KEYS = writerKeys('PersonsWriteBehind');
const TOTAL = Number(process.env['BACKFILL_TEST_KEYS'] ?? 50_000);

let p: Pipeline;
let direct: TestClient;
let worker: WorkerService;

beforeAll(async () => {
  p = await startPipeline('backfill', undefined, { settingsCheckMs: 0 });
  direct = await p.newDirectClient();
  worker = await p.startWorker();
});

afterAll(async () => {
  await worker?.close();
  await p?.close();
});

/** Hashes `person:<tag><0..n-1>` written to the redis-server itself: they exist, and nothing captured them. */
async function writeUncaptured(tag: string, n: number): Promise<void> {
  await withoutCapture(direct, async () => {
    for (let start = 0; start < n; start += 1000) {
      const multi = direct.multi();
      for (let i = start; i < Math.min(n, start + 1000); i++) multi.hSet(`person:${tag}${i}`, { first_name: `F${i}`, last_name: `L${i}`, age: String(i % 100) });
      await multi.execAsPipeline();
    }
  });
}

/** Every row of `persons` with an id `<tag><n>` equals its hash, and every hash `person:<tag><0..n-1>` has its row. */
async function expectMysqlEqualsRedis(tag: string, n: number): Promise<void> {
  const rows = await p.db.query<Array<{ person_id: string; first: string | null; last: string | null; age: number | null }>>('SELECT person_id, first, last, age FROM persons WHERE person_id LIKE ?', [`${tag}%`]);
  const byId = new Map(rows.map((r) => [r.person_id, r]));
  const mismatches: string[] = [];
  for (let start = 0; start < n; start += 1000) {
    const multi = direct.multi();
    for (let i = start; i < Math.min(n, start + 1000); i++) multi.hmGet(`person:${tag}${i}`, ['first_name', 'last_name', 'age']);
    const images = (await multi.execAsPipeline()) as unknown as Array<Array<string | null>>;
    images.forEach(([first, last, age], k) => {
      const id = `${tag}${start + k}`;
      const row = byId.get(id);
      const expected = { person_id: id, first: first ?? null, last: last ?? null, age: age === null || age === undefined ? null : Number(age) };
      if (row === undefined || JSON.stringify({ ...row }) !== JSON.stringify(expected)) mismatches.push(`${id}: row ${JSON.stringify(row)} hash ${JSON.stringify(expected)}`);
    });
  }
  expect(mismatches.slice(0, 5)).toEqual([]);
  expect(rows).toHaveLength(n);
}

const backfillArgs = (extra: string[] = []) => ['backfill', '--writer', 'PersonsWriteBehind', '--redis', p.runtime.url, '--config', p.configFile, ...extra];

describe('writebehind backfill', () => {
  it(`captures ${TOTAL} pre-existing hashes while a live load updates some of them: afterwards MySQL equals Redis`, async () => {
    await writeUncaptured('b', TOTAL);
    expect(await p.db.query('SELECT 1 FROM persons')).toHaveLength(0);
    // The load: captured updates of random keys of the range, before, during and after their backfill image.
    const load = await p.newClient();
    let running = true;
    let updates = 0;
    const loading = (async () => {
      while (running) {
        const i = Math.floor(Math.random() * TOTAL);
        await load.hSet(`person:b${i}`, { age: String(100 + (updates % 50)), last_name: `U${updates}` });
        updates += 1;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const result = await runCli(backfillArgs(), { timeoutMs: 240_000 });
    running = false;
    await loading;
    expect(result.stderr).toMatch(/scanned \d+ key\(s\), captured \d+/);
    expect(result.code, result.stderr).toBe(0);
    expect(updates).toBeGreaterThan(50);
    await waitDrained(direct, KEYS, 120_000);
    await expectMysqlEqualsRedis('b', TOTAL);
    const state = await direct.hGetAll(KEYS.backfill);
    expect(state).toMatchObject({ state: 'done', cursor: '0' });
    expect(Number(state['captured'])).toBeGreaterThanOrEqual(TOTAL);
    const lines: string[] = [];
    await runStatus({ redis: p.runtime.url, config: p.configFile }, (t) => lines.push(t));
    expect(lines.join('\n')).toMatch(new RegExp(`PersonsWriteBehind: last backfill done \\S+: ${state['scanned']} key\\(s\\) scanned, ${state['captured']} captured`));
  }, 300_000);

  it('an interrupted backfill (SIGINT, then SIGKILL) resumes from its stored SCAN cursor', async () => {
    const n = 6000;
    await writeUncaptured('r', n);
    // --match: only the `person:r*` hashes; those of the first test are not scanned again.
    const backfillArgs = (extra: string[] = []) => ['backfill', '--writer', 'PersonsWriteBehind', '--match', 'r*', '--redis', p.runtime.url, '--config', p.configFile, ...extra];
    const stored = async () => direct.hGetAll(KEYS.backfill);

    // SIGINT: the run finishes its page, stores the cursor and exits 130.
    const first = spawnCli(backfillArgs(['--rate', '1500']));
    await until(stored, (s) => s['match'] === 'r*' && Number(s['scanned']) >= 1000, 20_000);
    first.kill('SIGINT');
    expect(await exited(first)).toBe(130);
    const afterInt = await stored();
    expect(afterInt['state']).toBe('interrupted');
    expect(afterInt['cursor']).not.toBe('0');

    // SIGKILL: nothing runs at exit; the cursor stored after the last page is what the next run resumes from.
    const second = spawnCli(backfillArgs(['--rate', '1500']));
    await until(stored, (s) => Number(s['scanned']) >= Number(afterInt['scanned']) + 1000, 20_000);
    second.kill('SIGKILL');
    await exited(second);
    const afterKill = await stored();
    expect(afterKill['state']).toBe('running');

    const third = await runCli(backfillArgs(), { timeoutMs: 60_000 });
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toContain(`resuming at SCAN cursor ${afterKill['cursor']}`);
    const done = await stored();
    // Restarting from 0 would have scanned every key again: at least n + what the first two runs scanned.
    expect(Number(done['scanned'])).toBeLessThan(n + 1000);
    expect(Number(done['run_scanned'])).toBeLessThan(n - Number(afterKill['scanned']) + 1000);
    await waitDrained(direct, KEYS, 60_000);
    await expectMysqlEqualsRedis('r', n);
  }, 120_000);

  it('refuses bad options with exit 2', async () => {
    const badRate = await runCli(backfillArgs(['--rate', '0']));
    expect(badRate.code).toBe(2);
    expect(badRate.stderr).toContain('--rate');
    const unknown = await runCli(['backfill', '--writer', 'Nope', '--redis', p.runtime.url, '--config', p.configFile]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown writer 'Nope'");
  });
});
