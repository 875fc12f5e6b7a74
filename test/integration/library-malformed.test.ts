/**
 * Input the library cannot capture, on the runtime: each case is dead-lettered with its reason, the write
 * itself succeeds, the trigger counts a success (not a failure), and later writes are captured as usual.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { captured, keyspaceTriggerStats, ORDERS, PERSONS, readAck, readMeta, readStream, useLibraryHarness } from '../fixtures/library-harness.js';

const h = useLibraryHarness();

async function lastDeadLetter(keys = PERSONS): Promise<Record<string, string> | undefined> {
  return (await readStream(h.client, keys.deadLetters)).at(-1)?.fields;
}

/** The acknowledgement of a key that is not UTF-8: the stream `{<key bytes>}<uuid>`, as bytes. */
async function readBinaryKeyAck(key: Buffer, uuid: string): Promise<Record<string, string> | null> {
  const stream = Buffer.concat([Buffer.from('{'), key, Buffer.from(`}${uuid}`)]);
  const entries = (await h.client.sendCommand(['XRANGE', stream, '-', '+'])) as [string, string[]][];
  const entry = entries[0];
  if (entry === undefined) return null;
  const fields: Record<string, string> = {};
  for (let i = 0; i < entry[1].length; i += 2) fields[entry[1][i]!] = entry[1][i + 1]!;
  return fields;
}

describe('malformed input', () => {
  it('a key without an id: dead-lettered, a uuid gets status failed', async () => {
    const uuid = randomUUID();
    expect(await h.client.hSet('person:', { first_name: 'Nobody', '#': `=${uuid}` })).toBe(2);
    expect(await captured(h.client)).toEqual([]);
    expect(await lastDeadLetter()).toMatchObject({ 'dlq:stage': 'capture', 'dlq:reason': 'key person: has no id after person:', key: 'person:', ack: uuid });
    expect(await readAck(h.client, 'person:', uuid)).toEqual({ status: 'failed', error: 'key person: has no id after person:' });
    expect(await h.client.hGetAll('person:')).toEqual({ first_name: 'Nobody' });
  });

  it('a composite key with the wrong number of parts names what it expected', async () => {
    await h.client.hSet('order:7', 'total', '1');
    expect(await captured(h.client, ORDERS)).toEqual([]);
    expect((await lastDeadLetter(ORDERS))?.['dlq:reason']).toBe("key order:7 must have 2 non-empty ':'-separated id parts after order: (customer_id, order_id), found '7'");
  });

  it('a non-hash value under the prefix names its type', async () => {
    await h.client.set('person:1', 'not a hash');
    await h.client.rPush('person:2', 'x');
    expect(await captured(h.client)).toEqual([]);
    const letters = await readStream(h.client, PERSONS.deadLetters);
    expect(letters.map((l) => [l.fields['dlq:reason'], l.fields['dlq:event']])).toEqual([
      ['key person:1 holds a string value, not a hash', 'set'],
      ['key person:2 holds a list value, not a hash', 'rpush'],
    ]);
  });

  it('a binary key is dead-lettered with the key in hex', async () => {
    const key = Buffer.concat([Buffer.from('person:'), Buffer.from([0xff, 0x01])]);
    await h.client.hSet(key, 'age', '1');
    expect(await captured(h.client)).toEqual([]);
    expect(await lastDeadLetter()).toMatchObject({ key: '706572736f6e3aff01', 'dlq:reason': 'key is not valid UTF-8 (hex 706572736f6e3aff01)' });
  });

  it('a binary key with a uuid: # is removed and {<key>}<uuid> says status failed with the reason', async () => {
    const uuid = randomUUID();
    const key = Buffer.concat([Buffer.from('person:'), Buffer.from([0xff, 0x17])]);
    await h.client.hSet(key, ['first_name', 'x', '#', `=${uuid}`]);
    expect(await captured(h.client)).toEqual([]);
    expect(await h.client.hExists(key, '#')).toBe(0);
    expect(await readBinaryKeyAck(key, uuid)).toEqual({ status: 'failed', error: 'key is not valid UTF-8 (hex 706572736f6e3aff17)' });
    expect(await lastDeadLetter()).toMatchObject({ key: '706572736f6e3aff17', ack: uuid });
  });

  it("a binary key honours the flags that replicate nothing: - deletes it, + keeps it, both acknowledged done", async () => {
    const kept = Buffer.concat([Buffer.from('person:'), Buffer.from([0xfe])]);
    const deleted = Buffer.concat([Buffer.from('person:'), Buffer.from([0xfd])]);
    const [keptUuid, deletedUuid] = [randomUUID(), randomUUID()];
    await h.client.hSet(kept, ['first_name', 'x', '#', `+${keptUuid}`]);
    await h.client.hSet(deleted, ['first_name', 'x', '#', `-${deletedUuid}`]);
    expect(await h.client.hGetAll(kept)).toEqual({ first_name: 'x' });
    expect(await h.client.exists(deleted)).toBe(0);
    expect(await readBinaryKeyAck(kept, keptUuid)).toEqual({ status: 'done' });
    expect(await readBinaryKeyAck(deleted, deletedUuid)).toEqual({ status: 'done' });
    expect(await captured(h.client)).toEqual([]);
    expect(await lastDeadLetter()).toBeUndefined();
  });

  it('a field name that is not UTF-8 is an unmapped field: ignored, the row captured and acknowledged by the worker', async () => {
    const uuid = randomUUID();
    await h.client.hSet('person:1', [Buffer.from([0xc3, 0x28]), 'v', 'age', '1', '#', `=${uuid}`]);
    expect(await captured(h.client)).toEqual([{ op: 'u', key: 'person:1', table: 'persons', ack: uuid, 'k:person_id': '1', 'c:age': '1', null: 'first,last' }]);
    expect(await h.client.hExists('person:1', '#')).toBe(0);
    expect(await lastDeadLetter()).toBeUndefined();
  });

  it('counts dead letters in meta, keeps the last reason, and the trigger reports success', async () => {
    await h.client.hSet('person:1', '#', '?');
    await h.client.hSet('person:2', 'age', '2');
    const meta = await readMeta(h.client, PERSONS);
    expect(meta['dead_lettered']).toBe('1');
    expect(meta['last_error']).toBe("capture: unknown '#' flag '?'");
    expect(await captured(h.client)).toEqual([{ op: 'u', key: 'person:2', table: 'persons', 'k:person_id': '2', 'c:age': '2', null: 'first,last' }]);
    const stats = (await keyspaceTriggerStats(h.client, 'WriteBehind'))['PersonsWriteBehind'];
    expect(Number(stats?.['num_failed']), `last_error: ${String(stats?.['last_error'])}`).toBe(0);
    expect(Number(stats?.['num_success'])).toBeGreaterThan(0);
  });
});
