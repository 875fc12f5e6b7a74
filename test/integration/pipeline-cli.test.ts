/**
 * The CLI commands around the worker, called through their run functions against a live pipeline:
 * `status` (text and JSON), `dlq list|replay|purge`, the worker's /metrics endpoint, and `start`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDlq } from '../../src/cli/actions/dlq.js';
import { runStart } from '../../src/cli/actions/start.js';
import { findFreePort } from '../../bench/support/redis-server-process.js';
import { runStatus } from '../../src/cli/actions/status.js';
import { silentLogger } from '../../src/shared/log.js';
import { startWorkerService, type WorkerService } from '../../src/worker/worker-service.js';
import { createTestDatabase } from '../helpers/mysql.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { startPipeline, until, type Pipeline } from './pipeline-helpers.js';

process.env['LOG_LEVEL'] = 'warn';
let p: Pipeline;
let worker: WorkerService;

beforeAll(async () => {
  p = await startPipeline('cli');
  worker = await startWorkerService({ redisUrl: p.runtime.url, mysqlUrl: p.db.url, config: p.config, metricsPort: 0, log: silentLogger });
});

afterAll(async () => {
  await worker?.close();
  await p?.close();
});

const rowOf = async (id: string) => (await p.db.query<Array<{ first: string }>>('SELECT first FROM persons WHERE person_id = ?', [id]))[0];

describe('CLI around the worker', () => {
  it('status reports per writer, as text and as JSON', async () => {
    await p.client.hSet('person:st', { first_name: 'Status' });
    await until(() => rowOf('st'), (r) => r !== undefined);
    const lines: string[] = [];
    const report = await runStatus({ redis: p.runtime.url, config: p.configFile }, (t) => lines.push(t));
    expect(lines.join('\n')).toMatch(/^library WriteBehind /);
    expect(lines.join('\n')).toContain('PersonsWriteBehind: backlog 0 record(s)');
    const persons = report.writers.find((w) => w.writer === 'PersonsWriteBehind')!;
    expect(persons).toMatchObject({ backlog: 0, queuedBatches: 0, oldestPendingAgeMs: 0 });
    expect(persons.committedRows).toBeGreaterThanOrEqual(1);
    const json: string[] = [];
    await runStatus({ redis: p.runtime.url, config: p.configFile, json: true }, (t) => json.push(t));
    expect(JSON.parse(json[0]!).writers).toHaveLength(2);
  });

  it('dlq list shows why, replay re-captures after the table is fixed, purge deletes', async () => {
    await p.client.hSet('person:dl1', { first_name: 'A name that does not fit twenty' });
    await p.client.hSet('person:dl2', { first_name: 'Another name much too long' });
    const out: string[] = [];
    const listed = await until(() => runDlq({ action: 'list', writer: 'PersonsWriteBehind', redis: p.runtime.url }, (t) => out.push(t)), (r) => r.letters.length === 2);
    expect(listed.letters.map((l) => l.key)).toEqual(['person:dl1', 'person:dl2']);
    expect(listed.letters[0]!.reason).toContain('Data too long');
    await p.db.query('ALTER TABLE persons MODIFY first VARCHAR(100)');
    try {
      const replayed = await runDlq({ action: 'replay', writer: 'PersonsWriteBehind', count: 1, redis: p.runtime.url }, () => undefined);
      expect(replayed).toMatchObject({ removed: 1, skipped: 0 });
      expect(await until(() => rowOf('dl1'), (r) => r !== undefined)).toEqual({ first: 'A name that does not fit twenty' });
      const purged = await runDlq({ action: 'purge', writer: 'PersonsWriteBehind', redis: p.runtime.url }, () => undefined);
      expect(purged.removed).toBe(1);
      expect((await runDlq({ action: 'list', writer: 'PersonsWriteBehind', redis: p.runtime.url }, () => undefined)).letters).toEqual([]);
      expect(await rowOf('dl2')).toBeUndefined();
    } finally {
      await p.db.query('DELETE FROM persons WHERE CHAR_LENGTH(first) > 20');
      await p.db.query('ALTER TABLE persons MODIFY first VARCHAR(20)');
    }
  });

  it('serves Prometheus metrics on /metrics', async () => {
    await p.client.hSet('person:m1', { first_name: 'Metric' });
    await until(() => rowOf('m1'), (r) => r !== undefined);
    const response = await fetch(`http://127.0.0.1:${worker.metricsPort}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    for (const name of ['writebehind_batches_total', 'writebehind_committed_rows_total', 'writebehind_batch_duration_seconds_bucket', 'writebehind_backlog_records', 'writebehind_oldest_pending_age_seconds', 'writebehind_retries_total', 'writebehind_dead_lettered_total', 'writebehind_captured_records']) {
      expect(text).toContain(name);
    }
    expect((await fetch(`http://127.0.0.1:${worker.metricsPort}/other`)).status).toBe(404);
  });

  it('counts dead letters of the capture stage too (an unknown # flag) in /metrics, where the worker counter cannot see them', async () => {
    const gauge = async () => {
      const text = await (await fetch(`http://127.0.0.1:${worker.metricsPort}/metrics`)).text();
      const match = /^writebehind_dead_lettered_records\{writer="PersonsWriteBehind"\} (\d+)$/m.exec(text);
      return match === null ? null : Number(match[1]);
    };
    const counted = async () => Number((await p.client.hGet('wb:meta:{PersonsWriteBehind}', 'dead_lettered')) ?? 0);
    const before = await counted();
    await p.client.hSet('person:m2', { first_name: 'Flag', '#': '?' });
    // The capture is synchronous: the letter is counted once HSET has replied.
    expect(await counted()).toBe(before + 1);
    await until(gauge, (n) => n === before + 1, 10_000);
  });

  it('start runs the runtime, deploys, creates the example tables and writes through', async () => {
    const server = await startRedisServer();
    const db = await createTestDatabase('start');
    const out: string[] = [];
    try {
      const pipeline = await runStart({ redis: server.url, port: 0, mysql: db.url, config: 'config/example.json', lockTimeout: '2000' }, (t) => out.push(t));
      try {
        // --lock-timeout reaches the runtime: a function busy for 800 ms passes under 2000 (the default 500 kills it).
        const busy = await import('../helpers/resp-socket.js').then(({ RespSocket }) => RespSocket.open(pipeline.runtimePort));
        busy.send(['TFUNCTION', 'LOAD', "#!js api_version=1.0 name=busy\nredis.registerFunction('f', () => { const end = Date.now() + 800; while (Date.now() < end) {} return 'done'; });"]);
        await busy.read(1);
        busy.send(['TFCALL', 'busy.f', '0']);
        expect(await busy.readBytes(1)).toMatch(/^\$4\r\ndone/);
        busy.send(['TFUNCTION', 'DELETE', 'busy']);
        await busy.read(1);
        busy.close();
        expect(out.join('\n')).toContain(`redis-cli -p ${pipeline.runtimePort} HSET person:1 first_name James last_name Bond age 42`);
        expect(out.join('\n')).toContain('created table(s) persons, cars');
        const { createClient } = await import('redis');
        const client = createClient({ url: pipeline.runtimeUrl });
        await client.connect();
        await client.hSet('person:1', { first_name: 'James', last_name: 'Bond', age: '42' });
        await client.close();
        const row = await until(async () => (await db.query<Array<Record<string, unknown>>>('SELECT * FROM persons'))[0], (r) => r !== undefined);
        expect(row).toEqual({ person_id: '1', first: 'James', last: 'Bond', age: 42 });
      } finally {
        await pipeline.close();
      }
    } finally {
      await db.drop();
      await server.stop();
    }
  });
  it("start --metrics-port serves the worker's metrics and the runtime's lock metrics on one endpoint", async () => {
    const server = await startRedisServer();
    const db = await createTestDatabase('start_metrics');
    const metricsPort = await findFreePort();
    try {
      const pipeline = await runStart({ redis: server.url, port: 0, mysql: db.url, config: 'config/example.json', metricsPort: String(metricsPort) }, () => undefined);
      try {
        const { createClient } = await import('redis');
        const client = createClient({ url: pipeline.runtimeUrl });
        await client.connect();
        await client.hSet('person:7', { first_name: 'Ada', last_name: 'L', age: '36' });
        await client.close();
        await until(async () => (await db.query<unknown[]>('SELECT 1 FROM persons')).length, (n) => n === 1);
        const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        expect(text).toMatch(/^writebehind_batches_total\{writer="PersonsWriteBehind"\} [1-9]/m);
        expect(text).toMatch(/^writebehind_runtime_exclusive_lock_hold_seconds_count [1-9]/m);
      } finally {
        await pipeline.close();
      }
    } finally {
      await db.drop();
      await server.stop();
    }
  });
});
