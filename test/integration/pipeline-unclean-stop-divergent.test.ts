/**
 * The worker's repair after an unclean runtime stop (verify --repair for each writer) keeps what `#` `+` and `-`
 * kept apart on purpose: the row of a key deleted with `-` stays, the row of a key changed with `+` keeps its
 * replicated value. It still repairs the write the dead runtime never captured.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/runtime/index.js';
import { RUNTIME_RUNNING_KEY, uncleanStopsRepairedKey, writerKeys } from '../../src/shared/keys.js';
import { startPipeline, until, waitDrained, type Pipeline, type TestClient } from './pipeline-helpers.js';
import { withoutCapture } from './uncaptured-writes.js';

let p: Pipeline;
let direct: TestClient;

beforeAll(async () => {
  // settingsCheckMs 0: withoutCapture's write must stay uncaptured (uncaptured-writes.ts).
  p = await startPipeline('unclean_divergent', undefined, { settingsCheckMs: 0 });
  await p.startWorker('repairer');
  direct = await p.newDirectClient();
});

afterAll(async () => {
  await p?.close();
});

const rowOf = async (id: string) => (await p.db.query<Array<{ first: string; age: number }>>('SELECT first, age FROM persons WHERE person_id = ?', [id]))[0];

describe('the worker\'s repair after an unclean runtime stop', () => {
  it('keeps the row of a key deleted with - and the replicated value of a key changed with +', { timeout: 60_000 }, async () => {
    await p.client.hSet('person:X', { first_name: 'Kept', age: '30' });
    await p.client.hSet('person:Y', { first_name: 'Plus', age: '40' });
    expect(await until(() => rowOf('Y'), (row) => row?.age === 40, 20_000)).toBeDefined();
    expect(await until(() => rowOf('X'), (row) => row?.age === 30, 20_000)).toBeDefined();
    await p.client.sendCommand(['HSET', 'person:X', '#', '-']);
    await p.client.sendCommand(['HSET', 'person:Y', 'age', '50', '#', '+']);

    // What a SIGKILL between a write and its capture leaves: the write, no capture, and the runtime's mark.
    await withoutCapture(direct, () => direct.hSet('person:U', { first_name: 'uncaptured', age: '2' }));
    await p.runtime.close();
    await direct.set(RUNTIME_RUNNING_KEY, '4242');

    const again = await Runtime.start({ redisUrl: p.server.url, port: p.runtime.port });
    try {
      // The repair ran: the uncaptured write's row arrived and the stop is counted repaired.
      expect(await until(() => rowOf('U'), (row) => row?.first === 'uncaptured', 40_000)).toBeDefined();
      expect(await until(() => direct.get(uncleanStopsRepairedKey(p.config.name)), (count) => count === '1', 10_000)).toBe('1');
      // Whatever the repair re-captured is committed.
      await waitDrained(direct, writerKeys('PersonsWriteBehind'));
      expect(await rowOf('X')).toEqual({ first: 'Kept', age: 30 });
      expect(await rowOf('Y')).toEqual({ first: 'Plus', age: 40 });
    } finally {
      await again.close();
    }
  });
});
