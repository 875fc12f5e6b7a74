/**
 * `#` `+` and `-` keep Redis and MySQL apart on purpose; a repair (`verify --repair`, the same code the worker
 * runs after an unclean runtime stop) must not undo them: the library records such keys
 * (`wb:divergent:{<writer>}`, docs/reconcile.md), and the repair leaves a key alone while its record still holds.
 * A later write the capture lost makes the record stale: the key is repaired as usual and the record removed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/shared/log.js';
import { writerKeys } from '../../src/shared/keys.js';
import { startWorkerService, type WorkerService } from '../../src/worker/worker-service.js';
import { runCli } from '../helpers/cli.js';
import { until } from '../helpers/until.js';
import { startPipeline, waitDrained, type Pipeline, type TestClient } from './pipeline-helpers.js';
import { withoutCapture } from './uncaptured-writes.js';

const KEYS = writerKeys('PersonsWriteBehind');

let p: Pipeline;
let direct: TestClient;
let worker: WorkerService;

beforeAll(async () => {
  // settingsCheckMs 0: withoutCapture's writes must stay uncaptured (uncaptured-writes.ts).
  p = await startPipeline('divergent', undefined, { settingsCheckMs: 0 });
  direct = await p.newDirectClient();
  worker = await startWorkerService({ redisUrl: p.runtime.url, mysqlUrl: p.db.url, config: p.config, metricsPort: 0, log: silentLogger });
});

afterAll(async () => {
  await worker?.close();
  await p?.close();
});

interface VerifyJson {
  missing: { count: number };
  stale: { count: number };
  orphan: { count: number };
  kept: number;
  repaired: number;
  recordsRemoved: number;
}

async function verify(extra: string[] = []): Promise<{ code: number | null; report: VerifyJson }> {
  const result = await runCli(['verify', '--writer', 'PersonsWriteBehind', '--redis', p.runtime.url, '--mysql', p.db.url, '--config', p.configFile, '--json', ...extra], { timeoutMs: 60_000 });
  try {
    return { code: result.code, report: JSON.parse(result.stdout) as VerifyJson };
  } catch {
    throw new Error(`verify printed no JSON (exit ${result.code}): ${result.stdout} ${result.stderr}`);
  }
}

/** A repair, then the worker's commit of whatever it re-captured. */
async function repair(): Promise<VerifyJson> {
  const { report } = await verify(['--repair']);
  await waitDrained(direct, KEYS);
  return report;
}

const rowOf = async (id: string) => (await p.db.query<Array<{ first: string | null; age: number | null }>>('SELECT first, age FROM persons WHERE person_id = ?', [id]))[0];

describe('verify --repair and the # flags + and -', () => {
  it('keeps the row of a key deleted with - (not replicated), and does not report it', { timeout: 60_000 }, async () => {
    await p.client.sendCommand(['HSET', 'person:X', 'first_name', 'Kept', 'age', '30', '#', '=']);
    expect(await until(() => rowOf('X'), (row) => row?.first === 'Kept', 20_000)).toEqual({ first: 'Kept', age: 30 });
    await p.client.sendCommand(['HSET', 'person:X', '#', '-']);
    expect(await direct.exists('person:X')).toBe(0);
    await waitDrained(direct, KEYS);

    const report = await repair();
    expect(await rowOf('X')).toEqual({ first: 'Kept', age: 30 });
    expect(report).toMatchObject({ orphan: { count: 0 }, kept: 1, repaired: 0 });
    const again = await verify();
    expect(again.code, JSON.stringify(again.report)).toBe(0);
  });

  it('keeps MySQL at the replicated value of a key changed with + (not replicated), and does not report it', { timeout: 60_000 }, async () => {
    await p.client.hSet('person:Y', { first_name: 'Plus', age: '40' });
    expect(await until(() => rowOf('Y'), (row) => row?.age === 40, 20_000)).toEqual({ first: 'Plus', age: 40 });
    await p.client.sendCommand(['HSET', 'person:Y', 'age', '50', '#', '+']);
    expect(await direct.hGet('person:Y', 'age')).toBe('50');
    await waitDrained(direct, KEYS);

    expect(await rowOf('Y')).toEqual({ first: 'Plus', age: 40 });
    const report = await repair();
    expect(report, JSON.stringify(report)).toMatchObject({ stale: { count: 0 } });
    expect(await rowOf('Y')).toEqual({ first: 'Plus', age: 40 });
    expect(report).toMatchObject({ stale: { count: 0 }, kept: 2, repaired: 0 });
    const again = await verify();
    expect(again.code, JSON.stringify(again.report)).toBe(0);
  });

  it('repairs a key written again after - whose capture was lost, and drops its stale record', { timeout: 60_000 }, async () => {
    expect(await direct.hExists(KEYS.divergent, 'person:X')).toBe(1);
    await withoutCapture(direct, () => direct.hSet('person:X', { first_name: 'Back', age: '31' }));

    const report = await repair();
    expect(report.missing.count + report.stale.count).toBe(1);
    expect(await rowOf('X')).toEqual({ first: 'Back', age: 31 });
    expect(await direct.hExists(KEYS.divergent, 'person:X')).toBe(0);
    // Counted, though the repair's re-capture would drop a stale record too.
    expect(report.recordsRemoved).toBe(1);
  });

  it('repairs a key changed after + whose capture was lost, and drops its stale record', { timeout: 60_000 }, async () => {
    expect(await direct.hExists(KEYS.divergent, 'person:Y')).toBe(1);
    await withoutCapture(direct, () => direct.hSet('person:Y', 'age', '60'));

    const report = await repair();
    expect(report.stale.count).toBe(1);
    expect(await rowOf('Y')).toEqual({ first: 'Plus', age: 60 });
    expect(await direct.hExists(KEYS.divergent, 'person:Y')).toBe(0);
    expect(report.recordsRemoved).toBe(1);
    const again = await verify();
    expect(again.code, JSON.stringify(again.report)).toBe(0);
  });

  it('drops the record of a key written again with its capture (its row equal), repairing nothing', { timeout: 60_000 }, async () => {
    await p.client.hSet('person:Z', { first_name: 'Zed', age: '1' });
    await p.client.sendCommand(['HSET', 'person:Z', '#', '-']);
    await p.client.hSet('person:Z', { first_name: 'Zed', age: '2' });
    await waitDrained(direct, KEYS);
    expect(await direct.hGet(KEYS.divergent, 'person:Z')).toBe('-');

    const report = await repair();
    expect(report).toMatchObject({ missing: { count: 0 }, stale: { count: 0 }, orphan: { count: 0 }, repaired: 0, recordsRemoved: 1 });
    expect(await direct.hExists(KEYS.divergent, 'person:Z')).toBe(0);
    expect(await rowOf('Z')).toEqual({ first: 'Zed', age: 2 });
  });
});
