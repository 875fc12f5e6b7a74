/**
 * A mapped table dropped under a running worker (`writebehind worker`, its log as the operator reads it): one
 * cause, one log line, naming the table and that it does not exist; the batches stay pending in Redis, and once
 * the table is back every row lands (nothing lost).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { startPipeline, until, type Pipeline } from './pipeline-helpers.js';

let p: Pipeline;
let worker: ChildProcess;
const logLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  p = await startPipeline('t3_table_dropped');
  worker = p.spawnWorker('dropper');
  let pending = '';
  worker.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) if (line.startsWith('{')) logLines.push(JSON.parse(line) as Record<string, unknown>);
  });
});

afterAll(async () => {
  await p?.close();
});

const rowsOf = async () => (await p.db.query<Array<{ person_id: string; first: string }>>('SELECT person_id, first FROM persons ORDER BY person_id')).map((r) => `${r.person_id}=${r.first}`);
const CREATE_PERSONS = 'CREATE TABLE persons (person_id VARCHAR(64) PRIMARY KEY, first VARCHAR(20), last VARCHAR(255), age INT, applied INT NOT NULL DEFAULT 0)';

describe('a mapped table dropped while the worker runs', () => {
  it('logs one line naming the table and the cause, keeps the batches pending, and writes them once the table is back', { timeout: 60_000 }, async () => {
    await p.client.hSet('person:before', { first_name: 'Before' });
    await until(rowsOf, (rows) => rows.length === 1, 15_000);
    await p.db.query('DROP TABLE persons');

    for (const id of ['d1', 'd2', 'd3']) await p.client.hSet(`person:${id}`, { first_name: id.toUpperCase() });
    const aboutPersons = () => logLines.filter((l) => l['writer'] === 'PersonsWriteBehind' && l['level'] === 'error');
    await until(async () => aboutPersons().length, (n) => n >= 1, 15_000);
    // Give the retries (backoff from 100 ms) time to log a second line, if they would.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const lines = aboutPersons();
    expect(lines.map((l) => l['msg']), JSON.stringify(lines)).toHaveLength(1);
    expect(String(lines[0]!['msg'])).toMatch(/table 'persons' does not exist/);

    await p.db.query(CREATE_PERSONS);
    expect(await until(rowsOf, (rows) => rows.length === 3, 30_000)).toEqual(['d1=D1', 'd2=D2', 'd3=D3']);
    expect(worker.exitCode).toBeNull();
  });
});
