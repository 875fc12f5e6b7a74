/** The seed's `#` field on the runtime: every flag, with and without a uuid, and the acknowledgements. */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { captured, PERSONS, readAck, readStream, useLibraryHarness } from '../fixtures/library-harness.js';

const h = useLibraryHarness();

describe('# flags', () => {
  it('= replicates, removes # and keeps the hash', async () => {
    await h.client.hSet('person:1', { first_name: 'James', '#': '=' });
    expect(await h.client.hGetAll('person:1')).toEqual({ first_name: 'James' });
    expect(await captured(h.client)).toEqual([
      { op: 'u', key: 'person:1', table: 'persons', 'k:person_id': '1', 'c:first': 'James', null: 'last,age' },
    ]);
  });

  it('= with a uuid puts the uuid in the record for the worker to acknowledge after the commit', async () => {
    const uuid = randomUUID();
    await h.client.hSet('person:1', { first_name: 'James', last_name: 'Bond', age: '42', '#': `=${uuid}` });
    expect(await captured(h.client)).toEqual([
      { op: 'u', key: 'person:1', table: 'persons', ack: uuid, 'k:person_id': '1', 'c:first': 'James', 'c:last': 'Bond', 'c:age': '42' },
    ]);
    // Nothing is acknowledged before MySQL has the row.
    expect(await h.client.exists(`{person:1}${uuid}`)).toBe(0);
  });

  it('no # field means replicate, like =', async () => {
    await h.client.hSet('person:1', 'age', '42');
    expect(await captured(h.client)).toEqual([{ op: 'u', key: 'person:1', table: 'persons', 'k:person_id': '1', 'c:age': '42', null: 'first,last' }]);
  });

  it('+ keeps the hash and replicates nothing', async () => {
    await h.client.hSet('person:007', { first_name: 'James', last_name: 'Bond', age: '42', '#': '+' });
    expect(await h.client.hGetAll('person:007')).toEqual({ first_name: 'James', last_name: 'Bond', age: '42' });
    expect(await captured(h.client)).toEqual([]);
  });

  it('+ with a uuid is acknowledged at once (status done, one hour TTL)', async () => {
    const uuid = randomUUID();
    await h.client.hSet('person:007', { first_name: 'James', '#': `+${uuid}` });
    expect(await readAck(h.client, 'person:007', uuid)).toEqual({ status: 'done' });
    const ttl = await h.client.ttl(`{person:007}${uuid}`);
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
    expect(await captured(h.client)).toEqual([]);
  });

  it('- deletes the hash and replicates nothing', async () => {
    await h.client.hSet('person:1', { first_name: 'James', '#': '+' });
    await h.client.hSet('person:1', '#', '-');
    expect(await h.client.exists('person:1')).toBe(0);
    expect(await captured(h.client)).toEqual([]);
  });

  it('- with a uuid is acknowledged at once', async () => {
    const uuid = randomUUID();
    await h.client.hSet('person:1', { first_name: 'James', '#': `-${uuid}` });
    expect(await h.client.exists('person:1')).toBe(0);
    expect(await readAck(h.client, 'person:1', uuid)).toEqual({ status: 'done' });
    expect(await captured(h.client)).toEqual([]);
  });

  it('~ deletes the hash and replicates the delete', async () => {
    await h.client.hSet('person:1', { first_name: 'James', '#': '~' });
    expect(await h.client.exists('person:1')).toBe(0);
    expect(await captured(h.client)).toEqual([{ op: 'd', key: 'person:1', table: 'persons', 'k:person_id': '1' }]);
  });

  it('~ with a uuid carries it in the delete record', async () => {
    const uuid = randomUUID();
    await h.client.hSet('person:1', '#', `~${uuid}`);
    expect(await captured(h.client)).toEqual([{ op: 'd', key: 'person:1', table: 'persons', ack: uuid, 'k:person_id': '1' }]);
    expect(await h.client.exists(`{person:1}${uuid}`)).toBe(0);
  });

  it('= on a hash whose only field is # replicates a delete (the hash is gone once # is removed)', async () => {
    await h.client.hSet('person:1', '#', '=');
    expect(await h.client.exists('person:1')).toBe(0);
    expect(await captured(h.client)).toEqual([{ op: 'd', key: 'person:1', table: 'persons', 'k:person_id': '1' }]);
  });

  it('an unknown flag is dead-lettered, # removed, nothing replicated, and a given uuid gets status failed', async () => {
    const uuid = randomUUID();
    await h.client.hSet('person:1', { first_name: 'James', '#': `!${uuid}` });
    expect(await h.client.hGetAll('person:1')).toEqual({ first_name: 'James' });
    expect(await captured(h.client)).toEqual([]);
    expect(await readAck(h.client, 'person:1', uuid)).toEqual({ status: 'failed', error: "unknown '#' flag '!'" });
    const [letter] = await readStream(h.client, PERSONS.deadLetters);
    expect(letter?.fields).toMatchObject({ 'dlq:writer': 'PersonsWriteBehind', 'dlq:stage': 'capture', 'dlq:reason': "unknown '#' flag '!'", 'dlq:event': 'hset', key: 'person:1', table: 'persons', ack: uuid });
    expect(Number(letter?.fields['dlq:at'])).toBeGreaterThan(Date.now() - 60_000);
  });

  it('an empty # value is an unknown flag', async () => {
    await h.client.hSet('person:1', { first_name: 'James', '#': '' });
    expect(await h.client.hGetAll('person:1')).toEqual({ first_name: 'James' });
    expect(await captured(h.client)).toEqual([]);
    const [letter] = await readStream(h.client, PERSONS.deadLetters);
    expect(letter?.fields['dlq:reason']).toBe("unknown '#' flag ''");
  });
});
