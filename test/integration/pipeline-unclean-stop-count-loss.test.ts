/**
 * The unclean-stop count (`__writebehind_runtime__:unclean-stops`) is what the worker compares with the count it
 * repaired after (worker/unclean-stop-repair.ts): a count that goes away (evicted, expired, deleted by another
 * hand) while a runtime runs would start again at 1 at the next unclean stop, at or below what the worker repaired
 * after, and that stop would never be repaired. The runtime's store guard sets the count back to the last value
 * it knows (docs/runtime.md, the library store), so the next stop counts one past what the worker repaired after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/runtime/index.js';
import { RUNTIME_RUNNING_KEY, RUNTIME_UNCLEAN_STOPS_KEY, uncleanStopsRepairedKey } from '../../src/shared/keys.js';
import { startPipeline, until, type Pipeline, type TestClient } from './pipeline-helpers.js';
import { withoutCapture } from './uncaptured-writes.js';

let p: Pipeline;
let direct: TestClient;

beforeAll(async () => {
  p = await startPipeline('unclean_stop_count_loss', undefined, { settingsCheckMs: 0 });
  await p.startWorker('repairer');
  direct = await p.newDirectClient();
});

afterAll(async () => {
  await p?.close();
});

const rowOf = async (id: string) => (await p.db.query<Array<{ first: string; applied: number }>>('SELECT first, applied FROM persons WHERE person_id = ?', [id]))[0];

/** What a SIGKILL between a write and its capture leaves: the write, no capture of it, and the runtime's mark. */
async function uncapturedWriteAndCrash(runtime: { close(): Promise<void> }, id: string): Promise<void> {
  await withoutCapture(direct, () => direct.hSet(`person:${id}`, { first_name: 'uncaptured', age: '2' }));
  await runtime.close();
  await direct.set(RUNTIME_RUNNING_KEY, '4242');
}

describe('an unclean-stop count that goes away while a runtime runs', () => {
  it('is set back to what the runtime knows, so the next unclean stop is repaired', { timeout: 90_000 }, async () => {
    await uncapturedWriteAndCrash(p.runtime, 'C1');
    const second = await Runtime.start({ redisUrl: p.server.url, port: p.runtime.port, settingsCheckMs: 0 });
    let third: Runtime | undefined;
    try {
      expect(await direct.get(RUNTIME_UNCLEAN_STOPS_KEY)).toBe('1');
      expect(await until(() => rowOf('C1'), (row) => row?.first === 'uncaptured', 40_000)).toMatchObject({ applied: 1 });
      expect(await until(() => direct.get(uncleanStopsRepairedKey(p.config.name)), (count) => count === '1', 10_000)).toBe('1');

      // Deleted straight on redis-server (eviction or an EXPIRE does the same) while the second runtime runs.
      await direct.del(RUNTIME_UNCLEAN_STOPS_KEY);
      expect(await until(() => direct.get(RUNTIME_UNCLEAN_STOPS_KEY), (count) => count === '1', 3000)).toBe('1');
      // A client's SET lowering it is undone the same way.
      await direct.set(RUNTIME_UNCLEAN_STOPS_KEY, '0');
      expect(await until(() => direct.get(RUNTIME_UNCLEAN_STOPS_KEY), (count) => count === '1', 3000)).toBe('1');

      await uncapturedWriteAndCrash(second, 'C2');
      third = await Runtime.start({ redisUrl: p.server.url, port: p.runtime.port, settingsCheckMs: 0 });
      expect(await direct.get(RUNTIME_UNCLEAN_STOPS_KEY)).toBe('2');
      expect(await until(() => rowOf('C2'), (row) => row?.first === 'uncaptured', 40_000)).toMatchObject({ applied: 1 });
      expect(await until(() => direct.get(uncleanStopsRepairedKey(p.config.name)), (count) => count === '2', 10_000)).toBe('2');
    } finally {
      await second.close();
      await third?.close();
    }
  });
});
