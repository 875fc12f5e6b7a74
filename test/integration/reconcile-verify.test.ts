/**
 * `writebehind verify`, run as the user runs it (the built CLI in its own process) against a live pipeline:
 * differences injected by hand in MySQL and straight into the redis-server (so no capture sees them) are found
 * and named, exit 1; `--repair` heals them through the library and the worker, and the next verify exits 0;
 * changes the worker has not committed yet are never reported.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStatus } from '../../src/cli/actions/status.js';
import { writerKeys } from '../../src/shared/keys.js';
import { silentLogger } from '../../src/shared/log.js';
import { startWorkerService, type WorkerService } from '../../src/worker/worker-service.js';
import { runCli } from '../helpers/cli.js';
import { until } from '../helpers/until.js';
import { withoutCapture } from './uncaptured-writes.js';
import { startPipeline, waitDrained, type Pipeline, type TestClient } from './pipeline-helpers.js';

const KEYS = writerKeys('PersonsWriteBehind');
const N = 40;

let p: Pipeline;
let direct: TestClient;
let worker: WorkerService;

beforeAll(async () => {
  p = await startPipeline('verify', undefined, { settingsCheckMs: 0 });
  direct = await p.newDirectClient();
  worker = await startWorkerService({ redisUrl: p.runtime.url, mysqlUrl: p.db.url, config: p.config, metricsPort: 0, log: silentLogger });
  for (let i = 0; i < N; i++) await p.client.hSet(`person:${i}`, { first_name: `F${i}`, last_name: `L${i}`, age: String(20 + i) });
  await waitDrained(direct, KEYS);
});

afterAll(async () => {
  await worker?.close();
  await p?.close();
});

interface VerifyJson {
  keys: number;
  rows: number;
  missing: { count: number; examples: string[] };
  stale: { count: number; examples: Array<{ key: string; columns: Array<{ column: string; redis: string | null; mysql: string | null }> }> };
  orphan: { count: number; examples: string[] };
  repaired: number;
}

async function verify(extra: string[] = []): Promise<{ code: number | null; report: VerifyJson; stderr: string }> {
  const result = await runCli(['verify', '--writer', 'PersonsWriteBehind', '--redis', p.runtime.url, '--mysql', p.db.url, '--config', p.configFile, '--json', ...extra], { timeoutMs: 60_000 });
  let report: VerifyJson;
  try {
    report = JSON.parse(result.stdout) as VerifyJson;
  } catch {
    throw new Error(`verify printed no JSON (exit ${result.code}): ${result.stdout} ${result.stderr}`);
  }
  return { code: result.code, report, stderr: result.stderr };
}

describe('writebehind verify', () => {
  it('exits 0 when MySQL mirrors Redis, and --sample compares only that many hashes', async () => {
    const all = await verify();
    expect(all.code, all.stderr).toBe(0);
    expect(all.report).toMatchObject({ keys: N, rows: N, missing: { count: 0 }, stale: { count: 0 }, orphan: { count: 0 } });
    const sampled = await verify(['--sample', '10']);
    expect(sampled.code).toBe(0);
    expect(sampled.report.keys).toBe(10);
    expect(sampled.report.rows).toBe(10);
  });

  it('finds missing, stale (column by column) and orphan rows injected in MySQL and in Redis, exits 1; --repair heals them', async () => {
    // In MySQL, by hand.
    await p.db.query("DELETE FROM persons WHERE person_id = '3'");
    await p.db.query("UPDATE persons SET age = 99 WHERE person_id = '4'");
    await p.db.query("INSERT INTO persons (person_id, first) VALUES ('999', 'Ghost')");
    // In Redis, straight to the redis-server: no capture sees these.
    await withoutCapture(direct, async () => {
      await direct.hSet('person:5', 'last_name', 'Changed');
      await direct.hSet('person:100', { first_name: 'New', age: '7' });
      await direct.del('person:6');
    });

    const found = await verify();
    expect(found.code, JSON.stringify(found.report)).toBe(1);
    expect(found.report.missing).toEqual({ count: 2, examples: ['person:100', 'person:3'] });
    expect(found.report.orphan).toEqual({ count: 2, examples: ['person:6', 'person:999'] });
    expect(found.report.stale.count).toBe(2);
    expect(found.report.stale.examples).toEqual([
      { key: 'person:4', columns: [{ column: 'age', redis: '24', mysql: '99' }] },
      { key: 'person:5', columns: [{ column: 'last', redis: 'Changed', mysql: 'L5' }] },
    ]);

    const repaired = await verify(['--repair']);
    expect(repaired.code).toBe(1);
    expect(repaired.report.repaired).toBe(6);
    await waitDrained(direct, KEYS);
    const healed = await verify();
    expect(healed.code, JSON.stringify(healed.report)).toBe(0);
    expect(await p.db.query("SELECT first, age FROM persons WHERE person_id IN ('100', '999', '6') ORDER BY person_id")).toEqual([{ first: 'New', age: 7 }]);

    // status shows the last verify.
    const lines: string[] = [];
    await runStatus({ redis: p.runtime.url, config: p.configFile }, (t) => lines.push(t));
    expect(lines.join('\n')).toMatch(/PersonsWriteBehind: .*last verify .* 40 key\(s\), 40 row\(s\), 0 difference\(s\)/);
    // The gauges are sampled every few seconds, and an earlier test's verify (a sample, also 0 differences) may still
    // be what they show: wait for this run's figures together.
    const thisRun = (t: string) => /writebehind_verify_differences\{writer="PersonsWriteBehind"\} 0/.test(t) && /writebehind_verify_keys\{writer="PersonsWriteBehind"\} 40/.test(t);
    await until(async () => (await fetch(`http://127.0.0.1:${worker.metricsPort}/metrics`)).text(), thisRun, 20_000, 200);
  }, 60_000);

  it('does not report changes the worker has not committed yet', async () => {
    // A live load over every key while verify runs: at any instant some rows lag their hashes.
    const load = await p.newClient();
    let running = true;
    let updates = 0;
    const loading = (async () => {
      while (running) {
        const i = updates % N;
        if (i === 7) await load.del(`person:${i}`);
        else await load.hSet(`person:${i}`, { age: String(updates), first_name: `G${updates % 1000}` });
        updates += 1;
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, 500));
      const result = await verify();
      expect(result.code, JSON.stringify(result.report)).toBe(0);
    } finally {
      running = false;
      await loading;
    }
    expect(updates).toBeGreaterThan(100);
  }, 60_000);

  it('refuses bad options with exit 2', async () => {
    const result = await runCli(['verify', '--writer', 'PersonsWriteBehind', '--sample', 'x', '--redis', p.runtime.url, '--config', p.configFile]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--sample');
    const noWriter = await runCli(['verify', '--redis', p.runtime.url, '--config', p.configFile]);
    expect(noWriter.code).toBe(2);
    expect(noWriter.stderr).toContain('--writer: is required');
  });
});
