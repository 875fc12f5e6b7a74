/**
 * Crashes of `writebehind worker` child processes (SIGKILL): exactly-once across a kill between the MySQL
 * commit and the library's `committed`, shown by a trigger that counts applications; several kills during a
 * load of thousands of writes, after which every row equals its hash; SIGTERM exits 0 after the batch in flight.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { writerKeys } from '../../src/shared/keys.js';
import { exampleConfig, exited, startPipeline, until, waitDrained, type Pipeline, type TestClient } from './pipeline-helpers.js';

const PERSONS = writerKeys('PersonsWriteBehind');
let p: Pipeline;
let direct: TestClient;

beforeAll(async () => {
  p = await startPipeline('crash');
  direct = await p.newDirectClient();
});

afterEach(async () => {
  await direct.sendCommand(['CLIENT', 'UNPAUSE']);
});

afterAll(async () => {
  await p?.close();
});

type Row = { person_id: string; first: string | null; last: string | null; age: number | null; applied: number };
const rowOf = async (id: string) => (await p.db.query<Row[]>('SELECT * FROM persons WHERE person_id = ?', [id]))[0];
const drained = () => waitDrained(direct, PERSONS);

describe('worker crashes', () => {
  it('exactly-once: a worker killed after the MySQL commit, before `committed`, is replayed without a second application', async () => {
    // Own pipeline with the persons writer only: the runtime runs a function call (the other writer's periodic
    // `cut`) under its lock, so a write paused behind CLIENT PAUSE would hold up the reads this test relies on.
    const eo = await startPipeline('crash_eo', exampleConfig({ writers: [exampleConfig().writers[0]] }));
    try {
      await exactlyOnceAcrossKill(eo);
    } finally {
      await eo.close();
    }
  });

  async function exactlyOnceAcrossKill(p: Pipeline): Promise<void> {
    const direct = await p.newDirectClient();
    const rowOf = async (id: string) => (await p.db.query<Row[]>('SELECT * FROM persons WHERE person_id = ?', [id]))[0];
    await p.db.query('DROP TRIGGER persons_ins');
    // The 'slow' row keeps the worker inside its INSERT long enough to pause Redis writes behind it.
    await p.db.query("CREATE TRIGGER persons_ins BEFORE INSERT ON persons FOR EACH ROW SET NEW.applied = IF(NEW.first = 'slow', 1 + 0 * SLEEP(1), 1)");
    let worker = p.spawnWorker('eo');
    await p.client.hSet('person:warm', { first_name: 'warm' });
    await until(() => rowOf('warm'), (r) => r !== undefined, 15_000);

    const uuid = randomUUID();
    await p.client.hSet('person:eo', { first_name: 'slow', age: '1', '#': `=${uuid}` });
    await until(async () => (await p.db.query<Array<{ n: number }>>("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'INSERT INTO%'", [p.db.name]))[0]!.n, (n) => n > 0);
    // Writes (acks, `committed`) now wait; reads (the ownership check before COMMIT) still pass.
    await direct.sendCommand(['CLIENT', 'PAUSE', '20000', 'WRITE']);
    await until(() => rowOf('eo'), (r) => r !== undefined);
    worker.kill('SIGKILL');
    await exited(worker);
    await direct.sendCommand(['CLIENT', 'UNPAUSE']);
    expect(await direct.xLen(PERSONS.changes)).toBeGreaterThan(0); // not committed in Redis

    worker = p.spawnWorker('eo'); // same consumer: replays its own pending batch at once
    await waitDrained(direct, PERSONS);
    expect(await rowOf('eo')).toMatchObject({ first: 'slow', age: 1, applied: 1 });
    const acks = (await direct.sendCommand(['XRANGE', `{person:eo}${uuid}`, '-', '+'])) as Array<[string, string[]]>;
    expect(acks.map(([, fields]) => fields)).toEqual([['status', 'done']]);
    worker.kill('SIGTERM');
    expect(await exited(worker)).toBe(0);
  }

  it('SIGTERM while a batch is being written: the batch finishes (MySQL and Redis), then the worker exits 0', async () => {
    await p.db.query('DROP TRIGGER persons_ins');
    await p.db.query("CREATE TRIGGER persons_ins BEFORE INSERT ON persons FOR EACH ROW SET NEW.applied = IF(NEW.first = 'slowterm', 1 + 0 * SLEEP(1), 1)");
    try {
      const worker = p.spawnWorker('term');
      await p.client.hSet('person:warm2', { first_name: 'warm' });
      await until(() => rowOf('warm2'), (r) => r !== undefined, 15_000);
      await p.client.hSet('person:term', { first_name: 'slowterm' });
      await until(async () => (await p.db.query<Array<{ n: number }>>("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'INSERT INTO%'", [p.db.name]))[0]!.n, (n) => n > 0);
      worker.kill('SIGTERM');
      expect(await exited(worker)).toBe(0);
      expect(await rowOf('term')).toMatchObject({ first: 'slowterm', applied: 1 });
      expect(await direct.xLen(PERSONS.changes)).toBe(0); // `committed` ran before the exit
    } finally {
      await p.db.query('DROP TRIGGER persons_ins');
      await p.db.query('CREATE TRIGGER persons_ins BEFORE INSERT ON persons FOR EACH ROW SET NEW.applied = 1');
    }
  });

  it('several SIGKILLs during thousands of writes: at the end every row equals its hash', { timeout: 45_000 }, async () => {
    const KEYS = 300;
    const OPS = 4000;
    let worker = p.spawnWorker('crash');
    let stop = false;
    const load = (async () => {
      const writer = await p.newClient();
      for (let i = 0; i < OPS; i++) {
        const id = `L${Math.floor(Math.random() * KEYS)}`;
        if (i % 17 === 0) await writer.del(`person:${id}`);
        else await writer.hSet(`person:${id}`, { first_name: `f${i}`, last_name: `l${i % 7}`, age: String(i) });
      }
      stop = true;
    })();
    const kills = (async () => {
      for (let k = 0; k < 4 && !stop; k++) {
        await new Promise((r) => setTimeout(r, 300 + Math.random() * 400));
        worker.kill('SIGKILL');
        await exited(worker);
        worker = p.spawnWorker('crash');
      }
    })();
    await Promise.all([load, kills]);
    await drained();
    const rows = new Map((await p.db.query<Row[]>("SELECT * FROM persons WHERE person_id LIKE 'L%'")).map((r) => [r.person_id, r]));
    let compared = 0;
    for (let i = 0; i < KEYS; i++) {
      const id = `L${i}`;
      const hash = await direct.hGetAll(`person:${id}`);
      const row = rows.get(id);
      if (Object.keys(hash).length === 0) expect(row, id).toBeUndefined();
      else {
        expect(row, id).toBeDefined();
        expect({ first: row!.first, last: row!.last, age: row!.age }, id).toEqual({ first: hash['first_name'], last: hash['last_name'], age: Number(hash['age']) });
        compared += 1;
      }
    }
    expect(compared).toBeGreaterThan(KEYS / 2);
    worker.kill('SIGTERM');
    expect(await exited(worker)).toBe(0);
  });
});
