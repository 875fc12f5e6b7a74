/**
 * `MOVE` of a mapped hash between databases, end to end: only database 0 is captured, so a MOVE out of it is the
 * row's delete (README, "What is captured") and a MOVE back into it the row's image. The key arriving in, or
 * leaving, another database is neither a change to capture nor a failed capture: the writer's trigger
 * `num_failed` (status's failed captures, the worker's `writebehind_capture_failures`) must not count it, while
 * a real write in another database still does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStatus } from '../../src/cli/actions/status.js';
import { silentLogger } from '../../src/shared/log.js';
import { startWorkerService, type WorkerService } from '../../src/worker/worker-service.js';
import { startPipeline, until, type Pipeline } from './pipeline-helpers.js';

let p: Pipeline;
let worker: WorkerService;

beforeAll(async () => {
  p = await startPipeline('t3_move');
  worker = await startWorkerService({ redisUrl: p.runtime.url, mysqlUrl: p.db.url, config: p.config, metricsPort: 0, log: silentLogger });
});

afterAll(async () => {
  await worker?.close();
  await p?.close();
});

const rowOf = async (id: string) => (await p.db.query<Array<{ first: string }>>('SELECT first FROM persons WHERE person_id = ?', [id]))[0];
const failedCaptures = async () => (await runStatus({ redis: p.runtime.url, config: p.configFile, json: true }, () => undefined)).writers.find((w) => w.writer === 'PersonsWriteBehind')!.failedCaptures;
const failuresGauge = async () => {
  const text = await (await fetch(`http://127.0.0.1:${worker.metricsPort}/metrics`)).text();
  return /writebehind_capture_failures\{writer="PersonsWriteBehind"\} (\d+)/.exec(text)?.[1];
};

describe('MOVE between databases', () => {
  it('a MOVE out of database 0 deletes the row and a MOVE back writes it, neither counted as a failed capture', async () => {
    await p.client.hSet('person:mv', { first_name: 'Mover' });
    await until(() => rowOf('mv'), (r) => r !== undefined);

    expect(await p.client.sendCommand(['MOVE', 'person:mv', '1'])).toBe(1);
    await until(() => rowOf('mv'), (r) => r === undefined);
    expect(await failedCaptures()).toBe(0);

    const other = await p.newClient();
    await other.select(1);
    expect(await other.sendCommand(['MOVE', 'person:mv', '0'])).toBe(1);
    expect(await until(() => rowOf('mv'), (r) => r !== undefined)).toEqual({ first: 'Mover' });
    expect(await failedCaptures()).toBe(0);
    expect(await until(failuresGauge, (v) => v !== undefined)).toBe('0');

    // A write in database 1 is still refused and counted: the check above is not blind.
    await other.hSet('person:db1', { first_name: 'Elsewhere' });
    expect(await failedCaptures()).toBe(1);
    expect(await until(failuresGauge, (v) => v === '1')).toBe('1');
  });
});
