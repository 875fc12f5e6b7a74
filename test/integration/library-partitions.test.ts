/**
 * Partitioned capture on one Redis (`writers[].partitions`, docs/scale-out.md): each key's changes go, in order,
 * to the capture stream of the partition its slot falls in; each partition is batched, committed and reported
 * on its own; a writer without `partitions` keeps today's single stream.
 */
import { describe, expect, it } from 'vitest';
import { captureStamp } from '../../src/shared/capture-config.js';
import { parseConfig } from '../../src/shared/config.js';
import { partitionKeys, partitionOfKey, writerKeys } from '../../src/shared/keys.js';
import { testConfig } from '../fixtures/library-configs.js';
import { ORDERS, PERSONS, SESSIONS, readMeta, readStream, useLibraryHarness } from '../fixtures/library-harness.js';

const PARTITIONS = 4;
const BATCH_SIZE = 5;

function partitionedConfig(): Record<string, unknown> {
  const config = testConfig({ batchSize: BATCH_SIZE });
  (config['writers'] as Record<string, unknown>[])[0]!['partitions'] = PARTITIONS;
  return config;
}

const h = useLibraryHarness({ config: partitionedConfig() });
/** The persons writer's capture stamp (its partitions count in it): every partition's descriptors carry it. */
const STAMP = (() => {
  const parsed = parseConfig(partitionedConfig());
  if (!parsed.ok) throw new Error(parsed.message);
  return captureStamp(parsed.config.writers[0]!);
})();
const partitions = Array.from({ length: PARTITIONS }, (_, p) => partitionKeys('PersonsWriteBehind', p, PARTITIONS));

async function writePersons(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await h.client.hSet(`person:${i}`, 'age', String(i));
}

describe('partitions: 4 on one Redis', () => {
  it("captures each key's changes, in order, into the stream of the partition its slot falls in", async () => {
    await writePersons(40);
    await h.client.hSet('person:1', 'age', '100');
    const seen: string[] = [];
    for (const [p, keys] of partitions.entries()) {
      const records = await readStream(h.client, keys.changes);
      expect(records.length).toBeGreaterThan(0);
      for (const record of records) expect(partitionOfKey(record.fields['key']!, PARTITIONS)).toBe(p);
      seen.push(...records.map((r) => r.fields['key']!));
    }
    expect(new Set(seen)).toEqual(new Set(Array.from({ length: 40 }, (_, i) => `person:${i}`)));
    const own = await readStream(h.client, partitions[partitionOfKey('person:1', PARTITIONS)]!.changes);
    expect(own.filter((r) => r.fields['key'] === 'person:1').map((r) => r.fields['c:age'])).toEqual(['1', '100']);
    // Nothing goes to the unpartitioned stream; a writer without `partitions` keeps it.
    expect(await h.client.exists(PERSONS.changes)).toBe(0);
    await h.client.hSet('order:7:42', 'total', '9');
    expect((await readStream(h.client, ORDERS.changes)).map((r) => r.fields['key'])).toEqual(['order:7:42']);
  });

  it('cuts batches per partition, each naming its own stream, contiguous, with its own meta', async () => {
    await writePersons(40);
    let batched = 0;
    for (const keys of partitions) {
      const records = await readStream(h.client, keys.changes);
      const batches = await readStream(h.client, keys.batches);
      expect(batches.length).toBe(Math.floor(records.length / BATCH_SIZE));
      let from = '0-0';
      for (const [i, batch] of batches.entries()) {
        expect(batch.fields).toEqual({ stream: keys.changes, from, to: records[(i + 1) * BATCH_SIZE - 1]!.id, count: String(BATCH_SIZE), config: STAMP });
        from = batch.fields['to']!;
      }
      expect(await readMeta(h.client, keys)).toMatchObject({ batches: String(batches.length), captured: String(batches.length * BATCH_SIZE) });
      batched += batches.length;
    }
    expect(batched).toBeGreaterThan(0);
  });

  it('committed on one partition trims and acks that partition only', async () => {
    await writePersons(40);
    const target = partitions[0]!;
    const [batch] = await readStream(h.client, target.batches);
    expect(batch).toBeDefined();
    const before = await Promise.all(partitions.map((keys) => h.client.xLen(keys.changes)));
    await h.client.xReadGroup('workers', 'test', { key: target.batches, id: '>' }, { COUNT: 1 });
    await h.client.sendCommand(['TFCALL', 'WriteBehind.committed', '2', target.changes, target.batches, batch!.id, batch!.fields['to']!, String(BATCH_SIZE)]);
    expect((await readMeta(h.client, target))['committed']).toBe(batch!.fields['to']);
    const after = await Promise.all(partitions.map((keys) => h.client.xLen(keys.changes)));
    expect(after[0]).toBe(before[0]! - BATCH_SIZE);
    expect(after.slice(1)).toEqual(before.slice(1));
    for (const keys of partitions.slice(1)) expect((await readMeta(h.client, keys))['committed']).toBeUndefined();
  });

  it("a backlog of the previous, unpartitioned library is still cut, committed and reported after the change", async () => {
    await h.deploy(testConfig({ batchSize: BATCH_SIZE }));
    await writePersons(7); // one batch of 5, 2 open
    await h.deploy(partitionedConfig());
    await h.client.hSet('person:100', 'age', '1'); // goes to a partition, not to the old stream
    expect(await h.client.xLen(PERSONS.changes)).toBe(7);
    const cut = await h.client.sendCommand(['TFCALL', 'WriteBehind.cut', '1', PERSONS.changes, '0']);
    expect(cut).not.toBeNull();
    const batches = await readStream(h.client, PERSONS.batches);
    expect(batches.map((b) => b.fields['count'])).toEqual([String(BATCH_SIZE), '2']);
    const status = JSON.parse(String(await h.client.sendCommand(['TFCALL', 'WriteBehind.status', '0']))) as {
      writers: Record<string, { backlog: number }>;
      partitions: Record<string, { backlog: number; batches: number }>;
    };
    expect(status.partitions[PERSONS.changes]).toMatchObject({ backlog: 7, batches: 2 });
    expect(status.writers['PersonsWriteBehind']!.backlog).toBe(8);
    await h.client.xReadGroup('workers', 'test', { key: PERSONS.batches, id: '>' }, { COUNT: 2 });
    for (const batch of batches) {
      await h.client.sendCommand(['TFCALL', 'WriteBehind.committed', '2', PERSONS.changes, PERSONS.batches, batch.id, batch.fields['to']!, batch.fields['count']!]);
    }
    expect(await h.client.xLen(PERSONS.changes)).toBe(0);
  });

  it('status sums the partitions of a writer and lists each one', async () => {
    await writePersons(40);
    const status = JSON.parse(String(await h.client.sendCommand(['TFCALL', 'WriteBehind.status', '0']))) as {
      writers: Record<string, { captured: number; backlog: number; cut: string | null }>;
      partitions: Record<string, { captured: number }>;
    };
    // The partitions, and the old unpartitioned stream (empty here).
    expect(Object.keys(status.partitions).sort()).toEqual([...partitions.map((k) => k.changes), PERSONS.changes].sort());
    expect(status.writers['PersonsWriteBehind']).toMatchObject({ captured: 40, backlog: 40, cut: null });
    expect(Object.values(status.partitions).reduce((n, p) => n + p.captured, 0)).toBe(40);
    expect(status.writers['OrdersWriteBehind']).toBeDefined();
    expect(writerKeys('OrdersWriteBehind').changes in status.partitions).toBe(false);
  });

  it("recapture appends each key's state into the log a write to it would use: an image into its partition, a delete for a gone key, nothing for a gone key of an onExpire: keep writer", async () => {
    await h.client.hSet('person:7', { first_name: 'Seven', age: '7' });
    const log = (key: string) => partitions[partitionOfKey(key, PARTITIONS)]!.changes;
    const lengths = async () => Promise.all(partitions.map((keys) => h.client.xLen(keys.changes)));
    const before = await lengths();
    const reply = await h.client.sendCommand(['TFCALL', 'WriteBehind.recapture', '3', 'person:7', 'person:gone', 'session:gone']);
    expect(JSON.parse(String(reply))).toEqual({ captured: 2, skipped: 1, kept: 0, notHash: 0, deadLettered: 0 });
    const image = (await readStream(h.client, log('person:7'))).filter((r) => r.fields['key'] === 'person:7').at(-1)!.fields;
    expect(image).toMatchObject({ op: 'u', key: 'person:7', 'c:first': 'Seven', 'c:age': '7' });
    expect((await readStream(h.client, log('person:gone'))).find((r) => r.fields['key'] === 'person:gone')!.fields).toMatchObject({ op: 'd', key: 'person:gone', 'k:person_id': 'gone' });
    const after = await lengths();
    expect(after.reduce((a, b) => a + b, 0) - before.reduce((a, b) => a + b, 0)).toBe(2);
    expect(await h.client.exists(SESSIONS.changes)).toBe(0);
    await expect(h.client.sendCommand(['TFCALL', 'WriteBehind.recapture', '1', 'other:1'])).rejects.toThrow("ERR recapture: key 'other:1' is under no writer's prefix (person:, order:, session:)");
    await expect(h.client.sendCommand(['TFCALL', 'WriteBehind.recapture', '0'])).rejects.toThrow('ERR recapture: expected at least one hash key');
  });

  it('a key recapture cannot capture (no id) is dead-lettered naming recapture as its event, not backfill', async () => {
    const reply = await h.client.sendCommand(['TFCALL', 'WriteBehind.recapture', '1', 'person:']);
    expect(JSON.parse(String(reply))).toMatchObject({ captured: 0, deadLettered: 1 });
    const letter = (await readStream(h.client, partitions[partitionOfKey('person:', PARTITIONS)]!.deadLetters)).find((l) => l.fields['key'] === 'person:');
    expect(letter?.fields).toMatchObject({ 'dlq:stage': 'capture', 'dlq:event': 'recapture', 'dlq:reason': 'key person: has no id after person:' });
  });
});
