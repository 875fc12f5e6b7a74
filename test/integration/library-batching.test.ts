/**
 * The batcher and the worker-facing functions on the runtime: full batches by size, partial batches by `cut`
 * after maxDelayMs, `committed` trimming and acking (idempotently), records from any path, and `status`.
 */
import { describe, expect, it } from 'vitest';
import { captureStamp } from '../../src/shared/capture-config.js';
import { parseConfig } from '../../src/shared/config.js';
import { WORKER_GROUP } from '../../src/shared/keys.js';
import { testConfig } from '../fixtures/library-configs.js';
import { PERSONS, readMeta, readStream, useLibraryHarness } from '../fixtures/library-harness.js';

const BATCH_SIZE = 3;
const h = useLibraryHarness({ config: testConfig({ batchSize: BATCH_SIZE }) });
/** What every descriptor the library cuts carries: the capture stamp of the persons writer as deployed. */
const STAMP = stampOfPersons(testConfig({ batchSize: BATCH_SIZE }));

function stampOfPersons(config: Record<string, unknown>): string {
  const parsed = parseConfig(config);
  if (!parsed.ok) throw new Error(parsed.message);
  return captureStamp(parsed.config.writers[0]!);
}

const tfcall = (fn: string, keys: string[], args: string[]) => h.client.sendCommand(['TFCALL', `WriteBehind.${fn}`, String(keys.length), ...keys, ...args]);
const captureIds = async () => (await readStream(h.client, PERSONS.changes)).map((e) => e.id);

async function writePersons(n: number, from = 1): Promise<void> {
  for (let i = from; i < from + n; i++) await h.client.hSet(`person:${i}`, 'age', String(i));
}

describe('batch cutting', () => {
  it('cuts a batch every batch.size records, contiguous from 0-0, and creates the workers group', async () => {
    await writePersons(7);
    const ids = await captureIds();
    const batches = await readStream(h.client, PERSONS.batches);
    expect(batches.map((b) => b.fields)).toEqual([
      { stream: PERSONS.changes, from: '0-0', to: ids[2], count: '3', config: STAMP },
      { stream: PERSONS.changes, from: ids[2], to: ids[5], count: '3', config: STAMP },
    ]);
    expect(batches[0]?.order).toEqual(['stream', 'from', 'to', 'count', 'config']);
    // Meta holds the cursor as of the last cut; the record after it is open, counted in memory (status shows it).
    expect(await readMeta(h.client, PERSONS)).toMatchObject({ cut: ids[5], captured: '6', batches: '2' });
    expect(JSON.parse(String(await tfcall('status', [], []))).writers.PersonsWriteBehind).toMatchObject({ open: 1, cut: ids[5], captured: 7, batches: 2 });
    const groups = (await h.client.sendCommand(['XINFO', 'GROUPS', PERSONS.batches])) as unknown[][];
    expect(groups.map((g) => g[1])).toEqual([WORKER_GROUP]);
  });

  it('batches records that reach the capture stream by other paths (a backfill XADD)', async () => {
    for (let i = 0; i < BATCH_SIZE; i++) await h.client.xAdd(PERSONS.changes, '*', { op: 'd', key: `person:${i}`, table: 'persons', 'k:person_id': String(i) });
    expect((await readStream(h.client, PERSONS.batches)).map((b) => b.fields['count'])).toEqual(['3']);
  });

  it('records in a MULTI are counted one by one', async () => {
    await h.client.multi().hSet('person:1', 'age', '1').hSet('person:2', 'age', '2').hSet('person:3', 'age', '3').hSet('person:4', 'age', '4').exec();
    expect((await readStream(h.client, PERSONS.batches)).map((b) => b.fields['count'])).toEqual(['3']);
    expect(JSON.parse(String(await tfcall('status', [], []))).writers.PersonsWriteBehind.open).toBe(1);
  });

  it('records counted before a redeploy or a runtime restart are still in the next batch (the count is rebuilt from the stream)', async () => {
    await writePersons(2);
    await h.deploy(); // TFUNCTION LOAD REPLACE: a fresh library instance, its in-memory count empty
    await writePersons(1, 3);
    await writePersons(2, 4);
    await h.restartRuntime();
    await writePersons(1, 6);
    const ids = await captureIds();
    expect((await readStream(h.client, PERSONS.batches)).map((b) => b.fields)).toEqual([
      { stream: PERSONS.changes, from: '0-0', to: ids[2], count: '3', config: STAMP },
      { stream: PERSONS.changes, from: ids[2], to: ids[5], count: '3', config: STAMP },
    ]);
  });

  it('records flushed away are never counted: after FLUSHALL the next batch holds only new records', async () => {
    await writePersons(2);
    await h.client.flushAll();
    await writePersons(3, 10);
    const ids = await captureIds();
    expect((await readStream(h.client, PERSONS.batches)).map((b) => b.fields)).toEqual([{ stream: PERSONS.changes, from: '0-0', to: ids[2], count: '3', config: STAMP }]);
  });

  it('a count made stale by another instance (it cut a batch: meta cut, batches and epoch moved) is rebuilt before a cut', async () => {
    await writePersons(2);
    const [first, second] = await captureIds();
    // What another instance (a failover, say) would have done: published (0-0, second] and taken the cursor over.
    await h.client.xAdd(PERSONS.batches, '*', { stream: PERSONS.changes, from: '0-0', to: second!, count: '2' });
    await h.client.hSet(PERSONS.meta, { cut: second!, batches: '1', captured: '2', epoch: 'another-instance' });
    await writePersons(3, 10);
    const ids = await captureIds();
    expect(ids[0]).toBe(first);
    expect((await readStream(h.client, PERSONS.batches)).map((b) => b.fields)).toEqual([
      { stream: PERSONS.changes, from: '0-0', to: second, count: '2' },
      { stream: PERSONS.changes, from: second, to: ids[4], count: '3', config: STAMP },
    ]);
  });

  it('cut: nothing while the open records are younger than maxDelayMs, a partial batch once they are older', async () => {
    expect(await tfcall('cut', [PERSONS.changes], ['0'])).toBeNull(); // nothing open
    await writePersons(2);
    expect(await tfcall('cut', [PERSONS.changes], ['60000'])).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const descriptor = await tfcall('cut', [PERSONS.changes], ['20']);
    const ids = await captureIds();
    const [batch] = await readStream(h.client, PERSONS.batches);
    expect(batch).toEqual({ id: descriptor, fields: { stream: PERSONS.changes, from: '0-0', to: ids[1], count: '2', config: STAMP }, order: ['stream', 'from', 'to', 'count', 'config'] });
    expect(await readMeta(h.client, PERSONS)).toMatchObject({ cut: ids[1], captured: '2', batches: '1' });
    expect(await tfcall('cut', [PERSONS.changes], ['0'])).toBeNull();
    // The next full batch starts where the partial one ended.
    await writePersons(3, 10);
    const after = await readStream(h.client, PERSONS.batches);
    expect(after[1]?.fields).toMatchObject({ from: ids[1], count: '3' });
  });

  it('cut and committed reject wrong keys and arguments with a clear error', async () => {
    await expect(tfcall('cut', ['wb:changes:{Nobody}'], ['10'])).rejects.toThrow("ERR cut: 'wb:changes:{Nobody}' is not the capture stream of a configured writer");
    await expect(tfcall('cut', [PERSONS.changes], ['soon'])).rejects.toThrow("ERR cut: maxDelayMs must be a non-negative integer, got 'soon'");
    await expect(tfcall('cut', [PERSONS.changes], [])).rejects.toThrow('ERR cut: expected 2 keys and arguments');
    await expect(tfcall('committed', [PERSONS.changes, PERSONS.meta], ['1-0', '1-0', '1'])).rejects.toThrow(`ERR committed: the batches stream of ${PERSONS.changes} is ${PERSONS.batches}`);
    await expect(tfcall('committed', [PERSONS.changes, PERSONS.batches], ['1', '1-0', '1'])).rejects.toThrow("ERR committed: descriptor id must be a stream id <ms>-<seq>, got '1'");
  });
});

describe('committed', () => {
  it('advances the commit cursor, trims the capture stream up to it, acks and deletes the descriptor; a replay changes nothing', async () => {
    await writePersons(4);
    const ids = await captureIds();
    const consumer = await h.client.sendCommand(['XREADGROUP', 'GROUP', WORKER_GROUP, 'w1', 'COUNT', '1', 'STREAMS', PERSONS.batches, '>']) as [string, [string, string[]][]][];
    const descriptor = consumer[0]![1][0]![0];
    const to = ids[2]!;
    expect(await tfcall('committed', [PERSONS.changes, PERSONS.batches], [descriptor, to, '3'])).toBe(to);
    expect(await captureIds()).toEqual([ids[3]]);
    expect(await h.client.xLen(PERSONS.batches)).toBe(0);
    expect(((await h.client.sendCommand(['XPENDING', PERSONS.batches, WORKER_GROUP])) as unknown[])[0]).toBe(0);
    expect(await readMeta(h.client, PERSONS)).toMatchObject({ committed: to, committed_rows: '3' });

    // The worker did not see the reply and calls again; then an older id arrives late.
    expect(await tfcall('committed', [PERSONS.changes, PERSONS.batches], [descriptor, to, '3'])).toBe(to);
    expect(await tfcall('committed', [PERSONS.changes, PERSONS.batches], [descriptor, ids[0]!, '3'])).toBe(to);
    expect(await readMeta(h.client, PERSONS)).toMatchObject({ committed: to, committed_rows: '3' });
    expect(await captureIds()).toEqual([ids[3]]);
  });

  it('compares ids numerically, not as text', async () => {
    await h.client.hSet(PERSONS.meta, 'committed', '999-0');
    expect(await tfcall('committed', [PERSONS.changes, PERSONS.batches], ['1-0', '1000-0', '0'])).toBe('1000-0');
  });
});

describe('status', () => {
  it('reports every writer as JSON, with the library version', async () => {
    await writePersons(4);
    await h.client.hSet('person:x:', '#', '?');
    const status = JSON.parse(String(await tfcall('status', [], [])));
    expect(status.library).toBe('WriteBehind');
    expect(status.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Object.keys(status.writers)).toEqual(['PersonsWriteBehind', 'OrdersWriteBehind', 'SessionsWriteBehind']);
    expect(status.writers.PersonsWriteBehind).toMatchObject({
      backlog: 4, open: 1, captured: 4, batches: 1, committed: null, committed_rows: 0,
      dead_lettered: 1, dead_letters: 1, pending_batches: 0, queued_batches: 1, last_error: "capture: unknown '#' flag '?'",
    });
    expect(status.writers.OrdersWriteBehind).toMatchObject({ backlog: 0, open: 0, cut: null, pending_batches: 0 });
  });

  it('version answers the package version', async () => {
    expect(await tfcall('version', [], [])).toBe(JSON.parse((await import('node:fs')).readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
  });
});
