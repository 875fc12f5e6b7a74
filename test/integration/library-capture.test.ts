/**
 * Capture on the runtime: every command that changes a mapped hash yields the row image (or a delete) in the
 * capture stream, by the time the command has replied.
 */
import { describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { batcherErrors, captured, keyspaceTriggerStats, ORDERS, PERSONS, readStreamBytes, SESSIONS, useLibraryHarness } from '../fixtures/library-harness.js';

const h = useLibraryHarness();

const upsert = (id: string, columns: Record<string, string>, nulls?: string) => ({
  op: 'u', key: `person:${id}`, table: 'persons', 'k:person_id': id,
  ...Object.fromEntries(Object.entries(columns).map(([c, v]) => [`c:${c}`, v])),
  ...(nulls === undefined ? {} : { null: nulls }),
});
const remove = (id: string) => ({ op: 'd', key: `person:${id}`, table: 'persons', 'k:person_id': id });

describe('captured commands', () => {
  it('HSET: the row image, mapped fields renamed, absent ones NULL, unmapped ones ignored', async () => {
    await h.client.hSet('person:1', { first_name: 'James', nickname: '007' });
    expect(await captured(h.client)).toEqual([upsert('1', { first: 'James' }, 'last,age')]);
  });

  it('HMSET and HSETNX', async () => {
    await h.client.sendCommand(['HMSET', 'person:1', 'first_name', 'James', 'last_name', 'Bond']);
    await h.client.hSetNX('person:1', 'age', '42');
    await h.client.hSetNX('person:1', 'age', '43'); // no change: Redis raises no event
    expect(await captured(h.client)).toEqual([
      upsert('1', { first: 'James', last: 'Bond' }, 'age'),
      upsert('1', { first: 'James', last: 'Bond', age: '42' }),
    ]);
  });

  it('HINCRBY and HINCRBYFLOAT capture the new value', async () => {
    await h.client.hIncrBy('person:1', 'age', 41);
    await h.client.hIncrBy('person:1', 'age', 1);
    await h.client.hIncrByFloat('person:1', 'age', 0.5);
    expect(await captured(h.client)).toEqual([
      upsert('1', { age: '41' }, 'first,last'),
      upsert('1', { age: '42' }, 'first,last'),
      upsert('1', { age: '42.5' }, 'first,last'),
    ]);
  });

  it('HDEL of a mapped field sets its column NULL; HDEL of the last field deletes the row', async () => {
    await h.client.hSet('person:1', { first_name: 'James', age: '42' });
    await h.client.hDel('person:1', 'age');
    await h.client.hDel('person:1', 'first_name');
    const records = await captured(h.client);
    expect(records.slice(0, 2)).toEqual([upsert('1', { first: 'James', age: '42' }, 'last'), upsert('1', { first: 'James' }, 'last,age')]);
    // The last HDEL raises hdel and del; both see the key gone.
    expect(records.slice(2).length).toBeGreaterThanOrEqual(1);
    for (const record of records.slice(2)) expect(record).toEqual(remove('1'));
  });

  it('DEL and UNLINK delete the row', async () => {
    await h.client.hSet('person:1', 'age', '1');
    await h.client.hSet('person:2', 'age', '2');
    await h.client.del('person:1');
    await h.client.unlink('person:2');
    expect((await captured(h.client)).slice(2)).toEqual([remove('1'), remove('2')]);
  });

  it('EXPIRE sets a TTL (nothing captured); the expiry deletes the row', async () => {
    await h.client.hSet('person:1', 'age', '1');
    await h.client.pExpire('person:1', 50);
    expect(await captured(h.client)).toEqual([upsert('1', { age: '1' }, 'first,last')]);
    await waitFor(async () => (await captured(h.client)).length === 2);
    expect((await captured(h.client))[1]).toEqual(remove('1'));
  });

  it('a writer with onExpire keep captures nothing on expiry, but still captures DEL', async () => {
    await h.client.hSet('session:a', 'user', 'u1');
    await h.client.pExpire('session:a', 30);
    await waitFor(async () => (await h.client.exists('session:a')) === 0);
    await h.client.hSet('session:b', 'user', 'u2');
    await h.client.del('session:b');
    expect(await captured(h.client, SESSIONS)).toEqual([
      { op: 'u', key: 'session:a', table: 'sessions', 'k:session_id': 'a', 'c:user_id': 'u1' },
      { op: 'u', key: 'session:b', table: 'sessions', 'k:session_id': 'b', 'c:user_id': 'u2' },
      { op: 'd', key: 'session:b', table: 'sessions', 'k:session_id': 'b' },
    ]);
  });

  it('RENAME away from a mapped key deletes its row; RENAME onto one upserts it', async () => {
    await h.client.hSet('person:1', 'age', '1');
    await h.client.rename('person:1', 'archive:1');
    await h.client.hSet('staging:2', { first_name: 'Eve', secret: 'x' });
    await h.client.rename('staging:2', 'person:2');
    expect((await captured(h.client)).slice(1)).toEqual([remove('1'), upsert('2', { first: 'Eve' }, 'last,age')]);
  });

  it('RENAME from one mapped key onto another moves the row', async () => {
    await h.client.hSet('person:1', 'age', '1');
    await h.client.rename('person:1', 'person:9');
    const records = (await captured(h.client)).slice(1);
    expect(records).toHaveLength(2);
    expect(records).toContainEqual(remove('1'));
    expect(records).toContainEqual(upsert('9', { age: '1' }, 'first,last'));
  });

  it('MULTI/EXEC: every event captures the final state (callbacks run at the end of the transaction)', async () => {
    await h.client.multi().hSet('person:1', 'first_name', 'James').hSet('person:1', 'age', '42').hIncrBy('person:1', 'age', 1).exec();
    const records = await captured(h.client);
    expect(records).toHaveLength(3);
    for (const record of records) expect(record).toEqual(upsert('1', { first: 'James', age: '43' }, 'last'));
  });

  it('MULTI/EXEC that writes then deletes captures deletes only', async () => {
    await h.client.multi().hSet('person:1', 'first_name', 'James').del('person:1').exec();
    const records = await captured(h.client);
    expect(records.length).toBeGreaterThan(0);
    for (const record of records) expect(record).toEqual(remove('1'));
  });

  it('a Lua script write is captured, with the flag honoured once', async () => {
    await h.client.eval("redis.call('HSET', KEYS[1], 'first_name', 'Lua', '#', '=') ; redis.call('HSET', KEYS[1], 'age', '7')", { keys: ['person:1'] });
    expect(await h.client.hGetAll('person:1')).toEqual({ first_name: 'Lua', age: '7' });
    const records = await captured(h.client);
    expect(records).toHaveLength(2);
    for (const record of records) expect(record).toEqual(upsert('1', { first: 'Lua', age: '7' }, 'last'));
  });

  it('binary values go into the record byte for byte', async () => {
    const value = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a, 0x41]);
    await h.client.hSet('person:1', 'first_name', value);
    const [record] = await readStreamBytes(h.client, PERSONS.changes);
    expect(record?.fields.get('c:first')).toEqual(value);
  });

  it('a composite key fills every key column', async () => {
    await h.client.hSet('order:7:1001', 'total', '9.99');
    expect(await captured(h.client, ORDERS)).toEqual([{ op: 'u', key: 'order:7:1001', table: 'orders', 'k:customer_id': '7', 'k:order_id': '1001', 'c:total': '9.99' }]);
  });

  it("HSETs right after an operator's CLIENT KILL of the runtime's sync connection are all captured", async () => {
    // Sent to redis-server directly: through the runtime, CLIENT KILL spares its own connections.
    const direct = createClient({ url: h.server.url });
    await direct.connect();
    try {
      for (let id = 1; id <= 5; id++) {
        const sync = (await direct.clientList()).find((client) => client.name === 'writebehind-runtime-sync');
        expect(await direct.sendCommand(['CLIENT', 'KILL', 'ID', String(sync?.id)])).toBe(1);
        await h.client.hSet(`person:${id}`, 'age', String(id));
      }
      expect(await captured(h.client)).toEqual([1, 2, 3, 4, 5].map((id) => upsert(String(id), { age: String(id) }, 'first,last')));
      const persons = (await keyspaceTriggerStats(h.client, 'WriteBehind'))['PersonsWriteBehind'];
      expect(Number(persons?.['num_failed']), String(persons?.['last_error'])).toBe(0);
    } finally {
      await direct.close();
    }
  });

  it('no trigger callback failed along the way (TFUNCTION LIST)', async () => {
    await h.client.hSet('person:1', 'age', '1');
    const stats = await keyspaceTriggerStats(h.client, 'WriteBehind');
    expect(Object.keys(stats)).toEqual(['PersonsWriteBehind', 'OrdersWriteBehind', 'SessionsWriteBehind']);
    for (const trigger of Object.values(stats)) {
      expect(Number(trigger['num_failed']), `${String(trigger['name'])} last_error: ${String(trigger['last_error'])}`).toBe(0);
    }
    expect(Number(stats['PersonsWriteBehind']?.['num_success'])).toBeGreaterThan(20);
    const errors = await batcherErrors(h.client, 'WriteBehind');
    expect(errors[PERSONS.changes]).toBeNull();
  });

  it('reads of missing keys (keymiss) and writes to other prefixes capture nothing', async () => {
    await h.client.hGetAll('person:404');
    await h.client.hSet('persons:1', 'age', '1');
    await h.client.hSet('other', 'age', '1');
    expect(await captured(h.client)).toEqual([]);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
