/**
 * The Redis side going away under a running worker: the runtime (what the worker talks to) stops and a new
 * one starts on the same port. The worker's connections reconnect, its loops resynchronise, and everything
 * captured before and after lands in MySQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { Runtime } from '../../src/runtime/index.js';
import { writerKeys } from '../../src/shared/keys.js';
import { startPipeline, until, type Pipeline, type TestClient } from './pipeline-helpers.js';

const PERSONS = writerKeys('PersonsWriteBehind');
let p: Pipeline;
let direct: TestClient;

beforeAll(async () => {
  p = await startPipeline('restart');
  await p.startWorker('survivor');
  direct = await p.newDirectClient();
});

afterAll(async () => {
  await p?.close();
});

const rowOf = async (id: string) => (await p.db.query<Array<{ first: string; age: number }>>('SELECT first, age FROM persons WHERE person_id = ?', [id]))[0];

describe('runtime restart under a running worker', () => {
  it('reconnects and drains what was captured before and after', { timeout: 30_000 }, async () => {
    for (let i = 0; i < 100; i++) await p.client.hSet(`person:R${i}`, { first_name: `before${i}`, age: String(i) });
    await p.runtime.close();
    await new Promise((r) => setTimeout(r, 1000));
    const again = await Runtime.start({ redisUrl: p.server.url, port: p.runtime.port });
    try {
      const fresh = createClient({ url: again.url }) as TestClient;
      await fresh.connect();
      for (let i = 0; i < 100; i += 2) await fresh.hSet(`person:R${i}`, { first_name: `after${i}`, age: String(i + 1) });
      await fresh.close();
      await until(() => direct.xLen(PERSONS.changes), (n) => n === 0, 20_000);
      for (let i = 0; i < 100; i++) {
        expect(await rowOf(`R${i}`), `R${i}`).toEqual(i % 2 === 0 ? { first: `after${i}`, age: i + 1 } : { first: `before${i}`, age: i });
      }
    } finally {
      await again.close();
    }
  });
});
