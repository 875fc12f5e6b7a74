/**
 * `writebehind verify` of a writer with `onExpire: keep`, run as the user runs it: the rows of expired hashes stay
 * in MySQL by design, so verify does not search the table for rows without a hash. Its report must say what it
 * compared (each hash with its row) and that the table was not searched, not "0 row(s)" as if no row was looked at.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writerKeys } from '../../src/shared/keys.js';
import { silentLogger } from '../../src/shared/log.js';
import { startWorkerService, type WorkerService } from '../../src/worker/worker-service.js';
import { runCli } from '../helpers/cli.js';
import { until } from '../helpers/until.js';
import { exampleConfig, startPipeline, waitDrained, type Pipeline, type TestClient } from './pipeline-helpers.js';

const KEYS = writerKeys('PersonsWriteBehind');
const N = 3;

let p: Pipeline;
let direct: TestClient;
let worker: WorkerService;

beforeAll(async () => {
  const config = exampleConfig({ writers: exampleConfig().writers.map((w) => (w.name === 'PersonsWriteBehind' ? { ...w, onExpire: 'keep' } : w)) });
  p = await startPipeline('t3_verify_keep', config);
  direct = await p.newDirectClient();
  worker = await startWorkerService({ redisUrl: p.runtime.url, mysqlUrl: p.db.url, config: p.config, metricsPort: 0, log: silentLogger });
  for (let i = 0; i < N; i++) await p.client.hSet(`person:${i}`, { first_name: `F${i}`, last_name: `L${i}`, age: String(20 + i) });
  // One hash expires: its row is kept, by design.
  await p.client.pExpire('person:0', 1);
  await until(() => p.client.exists('person:0'), (n) => n === 0);
  await waitDrained(direct, KEYS);
});

afterAll(async () => {
  await worker?.close();
  await p?.close();
});

describe('verify of an onExpire: keep writer', () => {
  it('names the keys compared with their rows and says the rows of expired hashes are kept, not "0 row(s)"', async () => {
    expect(await p.db.query('SELECT person_id FROM persons ORDER BY person_id')).toHaveLength(N);
    const text = await runCli(['verify', '--writer', 'PersonsWriteBehind', '--redis', p.runtime.url, '--mysql', p.db.url, '--config', p.configFile], { timeoutMs: 60_000 });
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^verify PersonsWriteBehind: 2 key\(s\) compared with their rows, 0 difference\(s\) in \d+ ms$/);
    expect(lines[1]).toBe('  rows without a hash not searched for: onExpire: keep keeps the row of an expired hash by design');
    expect(text.stdout + text.stderr).not.toContain('0 row(s)');
    const json = await runCli(['verify', '--writer', 'PersonsWriteBehind', '--redis', p.runtime.url, '--mysql', p.db.url, '--config', p.configFile, '--json'], { timeoutMs: 60_000 });
    expect(JSON.parse(json.stdout)).toMatchObject({ keys: 2, rows: 0, rowsSearched: false, orphan: { count: 0 } });
    const status = await runCli(['status', '--redis', p.runtime.url, '--config', p.configFile]);
    expect(status.stdout).toMatch(/PersonsWriteBehind: last verify \S+: 2 key\(s\) compared with their rows, 0 difference\(s\) \(missing 0, stale 0, orphan rows not searched for: onExpire: keep\)/);
  });
});
