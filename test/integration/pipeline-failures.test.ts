/**
 * Failures around a running pipeline: MySQL unreachable for a while during a load (the backlog waits and
 * drains), poison records mixed into a load (exactly those are dead-lettered), a column dropped at run time,
 * bad inputs (flags, keys, values), and a config that names a missing table or column.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { writerKeys } from '../../src/shared/keys.js';
import type { WorkerService } from '../../src/worker/worker-service.js';
import { CLI_ENTRY, startMysqlProxy, startPipeline, until, type CuttableProxy, type Pipeline, type TestClient } from './pipeline-helpers.js';

const PERSONS = writerKeys('PersonsWriteBehind');
const CARS = writerKeys('CarsWriteBehind');
let p: Pipeline;
let proxy: CuttableProxy;
let worker: WorkerService;
let direct: TestClient;

beforeAll(async () => {
  p = await startPipeline('failures');
  proxy = await startMysqlProxy();
  const viaProxy = new URL(p.db.url);
  viaProxy.port = String(proxy.port);
  worker = await p.startWorker('via-proxy', viaProxy.toString());
  direct = await p.newDirectClient();
});

afterAll(async () => {
  await worker?.close();
  await proxy?.close();
  await p?.close();
});

type Row = { person_id: string; first: string | null; last: string | null; age: number | null };
const rowOf = async (id: string) => (await p.db.query<Row[]>('SELECT person_id, first, last, age FROM persons WHERE person_id = ?', [id]))[0];
const drained = (keys = PERSONS) => until(() => direct.xLen(keys.changes), (n) => n === 0, 15_000);
type Letter = Record<string, string>;
async function deadLetters(keys = PERSONS): Promise<Letter[]> {
  const entries = (await direct.sendCommand(['XRANGE', keys.deadLetters, '-', '+'])) as Array<[string, string[]]>;
  return entries.map(([, f]) => Object.fromEntries(f.flatMap((v, i) => (i % 2 === 0 ? [[v, f[i + 1] ?? '']] : []))));
}

async function expectRowsEqualHashes(prefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const hash = await direct.hGetAll(`person:${prefix}${i}`);
    const row = await rowOf(`${prefix}${i}`);
    if (Object.keys(hash).length === 0) expect(row, `${prefix}${i}`).toBeUndefined();
    else expect({ first: row?.first, age: row?.age }, `${prefix}${i}`).toEqual({ first: hash['first_name'], age: Number(hash['age']) });
  }
}

describe('failures', () => {
  it('MySQL unreachable during a load: nothing is lost, the backlog drains when it is back', { timeout: 45_000 }, async () => {
    let reported = 0;
    worker.worker.on('error', () => (reported += 1));
    const writer = await p.newClient();
    const load = (async () => {
      for (let i = 0; i < 800; i++) await writer.hSet(`person:M${i % 150}`, { first_name: `m${i}`, age: String(i) });
    })();
    await new Promise((r) => setTimeout(r, 200));
    await proxy.cut();
    await new Promise((r) => setTimeout(r, 1500));
    const meta = await direct.hGetAll(PERSONS.meta);
    await proxy.restore();
    await load;
    await drained();
    await expectRowsEqualHashes('M', 150);
    expect(meta['last_error']).toMatch(/^write: /);
    // Reported once per writer and kind of failure (connection lost, then refused), not once per retry.
    expect(reported).toBeGreaterThanOrEqual(1);
    expect(reported).toBeLessThanOrEqual(6);
  });

  it('poison records mixed into a load: exactly those are dead-lettered with their error, the rest commits', async () => {
    const writer = await p.newClient();
    const poison = new Map<string, Record<string, unknown>>();
    for (let i = 0; i < 600; i++) {
      if (i % 40 === 7) {
        const id = `X${i}`;
        const tooLong = i % 80 === 7;
        await writer.hSet(`person:${id}`, tooLong ? { first_name: 'x'.repeat(50), age: '1' } : { first_name: 'bad age', age: 'forty-two' });
        // Too long: MySQL's error; not a number: the worker's own check, before MySQL sees it.
        poison.set(`person:${id}`, tooLong ? { errno: 1406 } : { column: 'age' });
      } else {
        await writer.hSet(`person:G${i % 100}`, { first_name: `g${i}`, age: String(i) });
      }
    }
    await drained();
    await expectRowsEqualHashes('G', 100);
    const letters = (await deadLetters()).filter((l) => l['key']?.startsWith('person:X'));
    expect(new Set(letters.map((l) => l['key']))).toEqual(new Set(poison.keys()));
    for (const letter of letters) {
      expect(letter['dlq:stage']).toBe('write');
      expect(JSON.parse(letter['dlq:error']!).context).toMatchObject(poison.get(letter['key']!)!);
    }
  });

  it('a column dropped at run time stalls the writer loudly without loss; restoring it drains the backlog', async () => {
    await p.db.query('ALTER TABLE persons DROP COLUMN last');
    try {
      await p.client.hSet('person:S1', { first_name: 'stalled', last_name: 'waits', age: '1' });
      await until(() => direct.hGet(PERSONS.meta, 'last_error'), (e) => /Unknown column 'last'|no column 'last'/.test(e ?? ''));
      expect(await direct.xLen(PERSONS.changes)).toBeGreaterThan(0);
    } finally {
      await p.db.query('ALTER TABLE persons ADD COLUMN last VARCHAR(255) AFTER first');
    }
    await drained();
    expect(await rowOf('S1')).toMatchObject({ first: 'stalled', last: 'waits' });
  });

  it('bad inputs each get a clear dead letter and affect nothing else', async () => {
    await p.db.query('ALTER TABLE cars MODIFY color VARCHAR(255) NOT NULL');
    await p.client.hSet('person:B1', { first_name: 'flag', '#': '?' }); // unknown flag
    await p.client.hSet('person:', { first_name: 'no id' }); // primary key missing
    await p.client.hSet('person:B2', { first_name: Buffer.from([0xff, 0xfe, 0x00]) }); // binary into a text column
    await p.client.hSet('car:B3', { id: 'no colour' }); // NULL into NOT NULL
    await p.client.hSet('person:B4', { first_name: 'fine', age: '4' });
    await p.client.hSet('car:B5', { id: 'fine', color: 'red' });
    await drained();
    await drained(CARS);
    expect(await rowOf('B4')).toMatchObject({ first: 'fine' });
    expect((await p.db.query<Array<{ car_id: string }>>('SELECT car_id FROM cars')).map((r) => r.car_id)).toEqual(['B5']);
    const reasons = new Map((await deadLetters()).map((l) => [l['key'], l['dlq:reason']]));
    expect(reasons.get('person:B1')).toContain("unknown '#' flag");
    expect(reasons.get('person:')).toBeDefined();
    expect(reasons.get('person:B2')).toContain('not valid UTF-8');
    const car = (await deadLetters(CARS)).find((l) => l['key'] === 'car:B3');
    expect(JSON.parse(car!['dlq:error']!).context.errno).toBe(1048);
  });

  it('HINCRBYFLOAT to 16.5 on an INT column is dead-lettered with a failed ack, not rounded to 17', async () => {
    await p.client.hSet('person:R1', { first_name: 'r', age: '16' });
    await drained();
    expect(await rowOf('R1')).toMatchObject({ age: 16 });
    await p.client.hIncrByFloat('person:R1', 'age', 0.5);
    await p.client.hSet('person:R1', { '#': '=u-r1' });
    await drained();
    const [, fields] = ((await direct.sendCommand(['XRANGE', '{person:R1}u-r1', '-', '+'])) as Array<[string, string[]]>)[0]!;
    expect(fields.slice(0, 3)).toEqual(['status', 'failed', 'error']);
    expect(fields[3]).toContain("'16.5' is not an integer");
    expect(await rowOf('R1')).toMatchObject({ age: 16 });
    // The HINCRBYFLOAT and the `#` write are two changes: one batch (coalesced: one dead letter) or two (an idle
    // worker cuts the first at once: a dead letter each). Either way every one carries 16.5, none is rounded.
    expect([...new Set((await deadLetters()).filter((l) => l['key'] === 'person:R1').map((l) => l['c:age']))]).toEqual(['16.5']);
  });

  it('a config naming a missing table or column makes the worker exit non-zero, naming them', () => {
    const file = join(dirname(p.configFile), 'bad.json');
    writeFileSync(file, JSON.stringify({
      ...p.config,
      writers: [
        { ...p.config.writers[0], table: 'people' },
        { ...p.config.writers[1], mappings: { id: 'id', colour: 'colour' } },
      ],
    }));
    const run = spawnSync(process.execPath, [CLI_ENTRY, 'worker', '--redis', p.runtime.url, '--mysql', p.db.url, '--config', file], { encoding: 'utf8', timeout: 15_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("table 'people' does not exist");
    expect(run.stderr).toContain("table 'cars' has no column 'colour'");
  });

  it('an unmapped NOT NULL column without a default makes the worker exit 2, naming it', async () => {
    await p.db.query('ALTER TABLE cars ADD COLUMN must VARCHAR(5) NOT NULL');
    try {
      const run = spawnSync(process.execPath, [CLI_ENTRY, 'worker', '--redis', p.runtime.url, '--mysql', p.db.url, '--config', p.configFile], { encoding: 'utf8', timeout: 15_000 });
      expect(run.status).toBe(2);
      expect(run.stderr).toContain("table 'cars' has a NOT NULL column 'must' without a default that is not mapped");
    } finally {
      await p.db.query('ALTER TABLE cars DROP COLUMN must');
    }
  });

  it('an unknown flag or a bad value is refused before anything starts', () => {
    const unknown = spawnSync(process.execPath, [CLI_ENTRY, 'worker', '--no-such-flag'], { encoding: 'utf8', timeout: 15_000 });
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toContain("unknown option '--no-such-flag'");
    const badUrl = spawnSync(process.execPath, [CLI_ENTRY, 'worker', '--mysql', 'postgres://x'], { encoding: 'utf8', timeout: 15_000 });
    expect(badUrl.status).toBe(2);
    expect(badUrl.stderr).toContain('--mysql: must be a mysql:// URL');
  });
});
