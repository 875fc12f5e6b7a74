/**
 * Several workers on one pipeline: they share the batches of a load, and when one is SIGKILLed and never
 * comes back, the other reclaims its pending batches (XAUTOCLAIM after --claim-min-idle-ms) and finishes them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writerKeys } from '../../src/shared/keys.js';
import { exampleConfig, exited, startPipeline, until, waitDrained, type Pipeline, type TestClient } from './pipeline-helpers.js';
import { WORKER_GROUP } from '../../src/shared/keys.js';

const PERSONS = writerKeys('PersonsWriteBehind');
let p: Pipeline;
let direct: TestClient;

beforeAll(async () => {
  // At-least-once here (no exactly-once table): order and reclaiming alone must keep rows equal to hashes.
  p = await startPipeline('scale', exampleConfig({ exactlyOnceTable: undefined, batch: { size: 50, maxDelayMs: 50 } }));
  direct = await p.newDirectClient();
});

/** Consumers that hold pending batch descriptors now (XPENDING summary). */
async function pendingConsumers(): Promise<string[]> {
  // NOGROUP until a worker has created the group.
  const summary = await direct.sendCommand(['XPENDING', PERSONS.batches, WORKER_GROUP]).catch(() => [0, null, null, null]);
  const [, , , consumers] = summary as [number, unknown, unknown, Array<[string, string]> | null];
  return (consumers ?? []).map(([name]) => String(name));
}

afterAll(async () => {
  await p?.close();
});

describe('several workers', () => {
  it('share a load, and one takes over the batches of the other after a SIGKILL', { timeout: 40_000 }, async () => {
    const a = p.spawnWorker('a', ['--claim-min-idle-ms', '1000']);
    const b = p.spawnWorker('b', ['--claim-min-idle-ms', '1000']);
    const writer = await p.newClient();
    const KEYS = 200;
    const load = (async () => {
      for (let i = 0; i < 3000; i++) {
        const id = `K${i % KEYS}`;
        if (i % 23 === 0) await writer.del(`person:${id}`);
        else await writer.hSet(`person:${id}`, { first_name: `v${i}`, age: String(i) });
      }
    })();
    // Both hold batches during the load (the title's "share"), and `a` holds some when it is killed.
    const holders = new Set<string>();
    await until(async () => {
      for (const consumer of await pendingConsumers()) holders.add(consumer);
      return holders;
    }, (seen) => seen.has('a') && seen.has('b'), 15_000, 10);
    await until(pendingConsumers, (consumers) => consumers.includes('a'), 15_000, 5);
    a.kill('SIGKILL');
    await exited(a);
    await load;
    await waitDrained(direct, PERSONS, 20_000);
    // What `a` held was taken over and committed by `b`: nothing is pending for anyone.
    expect(await pendingConsumers()).toEqual([]);
    for (let i = 0; i < KEYS; i++) {
      const hash = await direct.hGetAll(`person:K${i}`);
      const row = (await p.db.query<Array<{ first: string; age: number }>>('SELECT first, age FROM persons WHERE person_id = ?', [`K${i}`]))[0];
      if (Object.keys(hash).length === 0) expect(row, `K${i}`).toBeUndefined();
      else expect(row, `K${i}`).toEqual({ first: hash['first_name'], age: Number(hash['age']) });
    }
    b.kill('SIGTERM');
    expect(await exited(b)).toBe(0);
  });
});
