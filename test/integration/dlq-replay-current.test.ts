/**
 * `dlq replay` through the real pipeline when the key changed after its record was dead-lettered: the replay
 * makes MySQL reflect the key's current Redis state (re-captured through the library), never the old row image
 * of the letter, which would take MySQL back in time. A key kept apart on purpose since (`#` `+`) is left as it
 * is, its letter too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDlq } from '../../src/cli/actions/dlq.js';
import { silentLogger } from '../../src/shared/log.js';
import { startWorkerService, type WorkerService } from '../../src/worker/worker-service.js';
import { startPipeline, until, type Pipeline } from './pipeline-helpers.js';

process.env['LOG_LEVEL'] = 'warn';
const WRITER = 'PersonsWriteBehind';
let p: Pipeline;
let worker: WorkerService;

beforeAll(async () => {
  p = await startPipeline('dlq_current');
  // A row referenced here cannot be deleted (ER_ROW_IS_REFERENCED_2): a delete MySQL rejects, so dead-lettered.
  await p.db.query('CREATE TABLE person_refs (person_id VARCHAR(64), FOREIGN KEY (person_id) REFERENCES persons (person_id))');
  worker = await startWorkerService({ redisUrl: p.runtime.url, mysqlUrl: p.db.url, config: p.config, log: silentLogger });
});

afterAll(async () => {
  await worker?.close();
  await p?.close();
});

const rowOf = async (id: string) => (await p.db.query<Array<{ first: string | null }>>('SELECT first FROM persons WHERE person_id = ?', [id]))[0];
const dlq = (action: 'list' | 'replay', print: (t: string) => void = () => undefined) => runDlq({ action, writer: WRITER, redis: p.runtime.url, config: p.configFile }, print);
const letterOf = (key: string) => until(() => dlq('list'), (r) => r.letters.some((l) => l.key === key), 15_000);

/** Everything captured so far is committed once a write made after it lands: one writer commits in order. */
async function drained(tag: string): Promise<void> {
  await p.client.hSet(`person:${tag}`, { first_name: 'sentinel' });
  await until(() => rowOf(tag), (r) => r !== undefined, 15_000);
}

describe('dlq replay of a key written since its letter', () => {
  it('keeps the newer row: a too-long value dead-lettered, the column widened, the key written again; replay leaves the newest values', async () => {
    await p.client.hSet('person:rx', { first_name: 'A name that does not fit twenty' });
    await letterOf('person:rx');
    await p.db.query('ALTER TABLE persons MODIFY first VARCHAR(100)');
    await p.client.hSet('person:rx', { first_name: 'Newest' });
    await until(() => rowOf('rx'), (r) => r?.first === 'Newest', 15_000);
    const lines: string[] = [];
    const replayed = await dlq('replay', (t) => lines.push(t));
    expect(replayed).toMatchObject({ removed: 1, skipped: 0 });
    await drained('s1');
    expect(await rowOf('rx')).toEqual({ first: 'Newest' });
    expect(replayed.letters.map((l) => l.key)).toEqual(['person:rx']);
    expect(lines.at(-1)).toMatch(/^replayed 1 key\(s\)/);
    expect((await dlq('list')).letters).toEqual([]);
  });

  it('keeps a re-created row: a delete dead-lettered, the key written again; replay does not delete the new row', async () => {
    await p.client.hSet('person:dx', { first_name: 'Old' });
    await until(() => rowOf('dx'), (r) => r?.first === 'Old', 15_000);
    await p.db.query("INSERT INTO person_refs VALUES ('dx')");
    await p.client.del('person:dx');
    await letterOf('person:dx');
    await p.db.query('DELETE FROM person_refs');
    await p.client.hSet('person:dx', { first_name: 'Reborn' });
    await until(() => rowOf('dx'), (r) => r?.first === 'Reborn', 15_000);
    expect(await dlq('replay')).toMatchObject({ removed: 1, skipped: 0 });
    await drained('s2');
    expect(await rowOf('dx')).toEqual({ first: 'Reborn' });
  });

  it('replays a letter that is still the key\'s newest change: its delete reaches MySQL once the table is fixed', async () => {
    await p.client.hSet('person:dy', { first_name: 'Doomed' });
    await until(() => rowOf('dy'), (r) => r?.first === 'Doomed', 15_000);
    await p.db.query("INSERT INTO person_refs VALUES ('dy')");
    await p.client.del('person:dy');
    await letterOf('person:dy');
    await p.db.query('DELETE FROM person_refs');
    expect(await dlq('replay')).toMatchObject({ removed: 1, skipped: 0 });
    await until(() => rowOf('dy'), (r) => r === undefined, 15_000);
  });

  it('leaves a key written with # + since (kept apart from MySQL on purpose) and its letter', async () => {
    await p.db.query('DELETE FROM persons WHERE CHAR_LENGTH(first) > 20');
    await p.db.query('ALTER TABLE persons MODIFY first VARCHAR(20)');
    await p.client.hSet('person:kx', { first_name: 'Landed' });
    await until(() => rowOf('kx'), (r) => r?.first === 'Landed', 15_000);
    await p.client.hSet('person:kx', { first_name: 'A name that does not fit twenty' });
    await letterOf('person:kx');
    await p.client.hSet('person:kx', { first_name: 'Private', '#': '+' });
    await p.db.query('ALTER TABLE persons MODIFY first VARCHAR(100)');
    const lines: string[] = [];
    const replayed = await dlq('replay', (t) => lines.push(t));
    expect(replayed).toMatchObject({ removed: 0, skipped: 1, letters: [] });
    expect(lines.at(-1)).toContain('written with # + or # - since');
    await drained('s3');
    expect(await rowOf('kx')).toEqual({ first: 'Landed' });
    expect((await dlq('list')).letters.map((l) => l.key)).toEqual(['person:kx']);
  });
});
