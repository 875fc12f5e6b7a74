/**
 * Batching without waiting: batch.maxDelayMs is the longest a change waits for its batch, not a wait every
 * change pays. A worker with nothing in hand takes what is open at once, so at low load a change reaches
 * MySQL within a commit, and under load batches grow while the one before commits (group commit).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetaField } from '../../src/shared/protocol.js';
import { writerKeys } from '../../src/shared/keys.js';
import { exampleConfig, startPipeline, until, type Pipeline } from './pipeline-helpers.js';

const PERSONS = writerKeys('PersonsWriteBehind');

/** Far longer than the test waits: a change that waited for it would fail the test. */
const MAX_DELAY_MS = 60_000;
let p: Pipeline;

beforeAll(async () => {
  p = await startPipeline('latency', exampleConfig({ batch: { size: 1000, maxDelayMs: MAX_DELAY_MS } }));
  await p.startWorker();
});

afterAll(async () => {
  await p?.close();
});

const rowOf = async (id: string) => (await p.db.query<Array<{ first: string }>>('SELECT first FROM persons WHERE person_id = ?', [id]))[0]?.first ?? null;

describe('an idle worker', () => {
  it('writes a change at once, without waiting batch.maxDelayMs for a partial batch', { timeout: 30_000 }, async () => {
    await p.client.hSet('person:L1', { first_name: 'Ada', last_name: 'L', age: '36' });
    expect(await until(() => rowOf('L1'), (first) => first === 'Ada', 10_000, 20)).toBe('Ada');
  });

  it('writes the changes that came while it was busy in a few batches, not one each, and the next change again at once', { timeout: 30_000 }, async () => {
    const direct = await p.newDirectClient();
    const batchesCut = async () => Number((await direct.hGet(PERSONS.meta, MetaField.batches)) ?? 0);
    const before = await batchesCut();
    const writes = Array.from({ length: 200 }, (_, i) => p.client.hSet(`person:M${i}`, { first_name: `m${i}`, last_name: 'M', age: '1' }));
    await Promise.all(writes);
    expect(await until(() => rowOf('M199'), (first) => first === 'm199', 10_000, 20)).toBe('m199');
    // 200 changes sent at once: the first batch is cut while the worker idles, the rest while it commits.
    expect(await batchesCut() - before).toBeLessThanOrEqual(20);
    await p.client.hSet('person:L2', { first_name: 'Grace', last_name: 'L', age: '45' });
    expect(await until(() => rowOf('L2'), (first) => first === 'Grace', 10_000, 20)).toBe('Grace');
  });
});
