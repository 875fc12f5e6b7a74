/**
 * `writebehind backfill` and the `#` flags `+` and `-`: a hash whose last write was `# +` is kept apart from
 * MySQL on purpose (its divergence record holds, docs/reconcile.md), so a backfill must not capture it and
 * replicate the Redis-only state; it counts it as kept. A key written again since (a stale record) is
 * backfilled as any other, and its record dropped, as verify --repair does. Run as the user runs it: the built
 * CLI in its own process, against a live pipeline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writerKeys } from '../../src/shared/keys.js';
import type { WorkerService } from '../../src/worker/worker-service.js';
import { runCli } from '../helpers/cli.js';
import { withoutCapture } from './uncaptured-writes.js';
import { startPipeline, until, waitDrained, type Pipeline, type TestClient } from './pipeline-helpers.js';

const KEYS = writerKeys('PersonsWriteBehind');

let p: Pipeline;
let direct: TestClient;
let worker: WorkerService;

beforeAll(async () => {
  // settingsCheckMs 0: withoutCapture's writes must stay uncaptured (uncaptured-writes.ts).
  p = await startPipeline('backfill_divergent', undefined, { settingsCheckMs: 0 });
  direct = await p.newDirectClient();
  worker = await p.startWorker();
});

afterAll(async () => {
  await worker?.close();
  await p?.close();
});

const rowOf = async (id: string) => (await p.db.query<Array<{ first: string | null; age: number | null }>>('SELECT first, age FROM persons WHERE person_id = ?', [id]))[0];

/** A backfill of the ids matching `match` to its end, then the worker's commit of whatever it captured. */
async function backfill(match: string): Promise<{ stderr: string; state: Record<string, string> }> {
  const result = await runCli(['backfill', '--writer', 'PersonsWriteBehind', '--match', match, '--redis', p.runtime.url, '--config', p.configFile], { timeoutMs: 60_000 });
  expect(result.code, result.stderr).toBe(0);
  await waitDrained(direct, KEYS);
  return { stderr: result.stderr, state: await direct.hGetAll(KEYS.backfill) };
}

/** `person:<id>` written with its capture (row replicated), then `fields` written with `# <flag>`. */
async function writtenThenFlagged(id: string, flag: '+' | '-', fields: string[]): Promise<void> {
  await p.client.hSet(`person:${id}`, { first_name: 'Kept', age: '40' });
  expect(await until(() => rowOf(id), (row) => row?.age === 40, 20_000)).toEqual({ first: 'Kept', age: 40 });
  await p.client.sendCommand(['HSET', `person:${id}`, ...fields, '#', flag]);
  await waitDrained(direct, KEYS);
}

describe('writebehind backfill and the # flags + and -', () => {
  it('leaves a hash written with + alone while its record holds: MySQL keeps the replicated value, the key is counted as kept', { timeout: 60_000 }, async () => {
    await writtenThenFlagged('P1', '+', ['age', '50']);
    expect(await rowOf('P1')).toEqual({ first: 'Kept', age: 40 });

    const { stderr, state } = await backfill('P*');
    expect(await rowOf('P1')).toEqual({ first: 'Kept', age: 40 });
    expect(state).toMatchObject({ state: 'done', scanned: '1', captured: '0', kept: '1' });
    expect(stderr).toMatch(/scanned 1 key\(s\), captured 0, kept 1, .*; done/);
    expect(await direct.hGet(KEYS.divergent, 'person:P1')).toMatch(/^\+[0-9a-f]{16}$/);
  });

  it('has nothing to backfill of a key deleted with -: it is not scanned, its row stays', { timeout: 60_000 }, async () => {
    await writtenThenFlagged('M1', '-', ['age', '41']);
    expect(await direct.exists('person:M1')).toBe(0);

    const { state } = await backfill('M*');
    expect(state).toMatchObject({ state: 'done', scanned: '0', captured: '0' });
    expect(await rowOf('M1')).toEqual({ first: 'Kept', age: 40 });
    expect(await direct.hGet(KEYS.divergent, 'person:M1')).toBe('-');
  });

  it('backfills a key written again since its + (the capture lost it: a stale record) and drops the record', { timeout: 60_000 }, async () => {
    await writtenThenFlagged('S1', '+', ['age', '50']);
    await withoutCapture(direct, () => direct.hSet('person:S1', 'age', '60'));
    // A hash no capture ever saw, next to it: backfilled as always.
    await withoutCapture(direct, () => direct.hSet('person:S2', { first_name: 'New', age: '7' }));

    const { state } = await backfill('S*');
    expect(state).toMatchObject({ state: 'done', scanned: '2', captured: '2', kept: '0' });
    expect(await rowOf('S1')).toEqual({ first: 'Kept', age: 60 });
    expect(await rowOf('S2')).toEqual({ first: 'New', age: 7 });
    expect(await direct.hExists(KEYS.divergent, 'person:S1')).toBe(0);
  });
});
