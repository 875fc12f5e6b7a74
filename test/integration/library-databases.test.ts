/**
 * Only database 0 is replicated (the worker reads db 0, and Redis Cluster has no other): a write to a mapped
 * hash in another database is refused visibly, never captured into a stream no worker reads.
 */
import { describe, expect, it } from 'vitest';
import { captured, keyspaceTriggerStats, PERSONS, useLibraryHarness } from '../fixtures/library-harness.js';

const h = useLibraryHarness();

describe('databases other than 0', () => {
  it('a write in database 1 is not captured there, and fails the trigger with the key and the database', async () => {
    const other = await h.newClient();
    await other.select(1);
    const failedBefore = Number((await keyspaceTriggerStats(h.client, 'WriteBehind'))['PersonsWriteBehind']?.['num_failed']);

    expect(await other.hSet('person:x', 'age', '1')).toBe(1); // the write itself stands

    expect(await other.exists(PERSONS.changes)).toBe(0);
    expect(await other.exists(PERSONS.deadLetters)).toBe(0);
    const stats = (await keyspaceTriggerStats(h.client, 'WriteBehind'))['PersonsWriteBehind'];
    expect(Number(stats?.['num_failed'])).toBe(failedBefore + 1);
    expect(String(stats?.['last_error'])).toContain('person:x was written in database 1');
    await other.flushDb();
  });

  it('a flagged write in database 1 is left as it is: `#` stays, `-` deletes nothing, no acknowledgement', async () => {
    const other = await h.newClient();
    await other.select(1);
    await other.hSet('person:y', { '#': '-u1', age: '1' });
    expect(await other.hGetAll('person:y')).toEqual({ '#': '-u1', age: '1' });
    expect(await other.exists('{person:y}u1')).toBe(0);
    expect(await other.exists(PERSONS.changes)).toBe(0);
    await other.flushDb();
  });

  it('the same write in database 0 is captured as usual', async () => {
    await h.client.hSet('person:x', 'age', '1');
    expect(await captured(h.client)).toEqual([{ op: 'u', key: 'person:x', table: 'persons', 'k:person_id': 'x', 'c:age': '1', null: 'first,last' }]);
  });
});
