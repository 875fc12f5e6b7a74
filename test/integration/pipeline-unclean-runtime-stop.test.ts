/**
 * A runtime that dies between a write it passed on and that write's capture (docs/runtime.md#limits): the write
 * is in Redis, its client got no reply, and no capture of it exists. The next runtime finds the mark the dead
 * one left and counts an unclean stop; the worker answers with verify --repair, which brings the row to MySQL
 * without writing any other row twice. A clean stop counts nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/runtime/index.js';
import { RUNTIME_RUNNING_KEY, RUNTIME_UNCLEAN_STOPS_KEY, uncleanStopsRepairedKey } from '../../src/shared/keys.js';
import { startPipeline, until, type Pipeline, type TestClient } from './pipeline-helpers.js';
import { withoutCapture } from './uncaptured-writes.js';

let p: Pipeline;
let direct: TestClient;

beforeAll(async () => {
  p = await startPipeline('unclean_stop', undefined, { settingsCheckMs: 0 });
  await p.startWorker('repairer');
  direct = await p.newDirectClient();
});

afterAll(async () => {
  await p?.close();
});

const rowOf = async (id: string) => (await p.db.query<Array<{ first: string; applied: number }>>('SELECT first, applied FROM persons WHERE person_id = ?', [id]))[0];

describe('a runtime that stopped uncleanly', () => {
  it('leaves a write it never captured to the worker\'s repair, which writes its row and no other row twice', { timeout: 60_000 }, async () => {
    await p.client.hSet('person:U1', { first_name: 'captured', age: '1' });
    expect(await until(() => rowOf('U1'), (row) => row?.first === 'captured', 20_000)).toMatchObject({ applied: 1 });
    expect(await direct.get(RUNTIME_RUNNING_KEY)).not.toBeNull();

    // What a SIGKILL between a write and its capture leaves: the write, no capture, and the runtime's mark.
    await withoutCapture(direct, () => direct.hSet('person:U2', { first_name: 'uncaptured', age: '2' }));
    await p.runtime.close();
    expect(await direct.get(RUNTIME_RUNNING_KEY)).toBeNull();
    await direct.set(RUNTIME_RUNNING_KEY, '4242');

    const again = await Runtime.start({ redisUrl: p.server.url, port: p.runtime.port });
    try {
      expect(await direct.get(RUNTIME_UNCLEAN_STOPS_KEY)).toBe('1');
      expect(await until(() => rowOf('U2'), (row) => row?.first === 'uncaptured', 40_000)).toMatchObject({ applied: 1 });
      expect(await until(() => direct.get(uncleanStopsRepairedKey(p.config.name)), (count) => count === '1', 10_000)).toBe('1');
      expect(await rowOf('U1')).toMatchObject({ applied: 1 });
    } finally {
      await again.close();
    }

    // A clean stop and start counts nothing.
    const third = await Runtime.start({ redisUrl: p.server.url, port: p.runtime.port });
    await third.close();
    expect(await direct.get(RUNTIME_UNCLEAN_STOPS_KEY)).toBe('1');
  });
});
