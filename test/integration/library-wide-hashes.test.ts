/**
 * Wide hashes and big unmapped values under RedisGears' default lock-redis-timeout (500 ms): the capture reads
 * only the fields the row needs, so its cost does not grow with the hash.
 */
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captured, keyspaceTriggerStats, useLibraryHarness } from '../fixtures/library-harness.js';

const DEFAULT_LOCK_TIMEOUT_MS = 500;
const h = useLibraryHarness({ lockTimeoutMs: DEFAULT_LOCK_TIMEOUT_MS });

/** Straight to the redis-server behind the runtime: builds a wide hash fast, under a key no trigger watches. */
let direct: ReturnType<typeof createClient>;
beforeAll(async () => {
  direct = createClient({ url: h.server.url });
  await direct.connect();
});
afterAll(() => direct?.close());

async function failedCaptures(): Promise<number> {
  return Number((await keyspaceTriggerStats(h.client, 'WriteBehind'))['PersonsWriteBehind']?.['num_failed']);
}

describe('capture of wide hashes', () => {
  it('reads only the fields the row needs (# and the mapped ones), never the whole hash', async () => {
    await h.client.hSet('person:1', { first_name: 'James', nickname: '007' });
    const monitor = direct.duplicate();
    await monitor.connect();
    const commands: string[] = [];
    await monitor.monitor((line) => commands.push(line));
    await h.client.hSet('person:1', 'age', '42');
    await h.client.ping();
    await monitor.close();
    const reads = commands.filter((line) => /\] "(?!hset")[a-z]+" "person:1"/i.test(line));
    expect(reads).toEqual([expect.stringMatching(/"HMGET" "person:1" "#" "first_name" "last_name" "age"$/i)]);
  });

  it('a 100k-field hash with two mapped fields is captured within the default 500 ms lock timeout', async () => {
    for (let chunk = 0; chunk < 10; chunk++) {
      const fields: Record<string, string> = {};
      for (let i = 0; i < 10_000; i++) fields[`f${chunk * 10_000 + i}`] = `value ${i}`;
      await direct.hSet('staging:wide', fields);
    }
    await direct.hSet('staging:wide', { first_name: 'before', age: '1' });
    const failedBefore = await failedCaptures();

    await h.client.rename('staging:wide', 'person:wide');
    await h.client.hSet('person:wide', 'first_name', 'final');

    const row = (first: string) => ({ op: 'u', key: 'person:wide', table: 'persons', 'k:person_id': 'wide', 'c:first': first, 'c:age': '1', null: 'last' });
    expect(await captured(h.client)).toEqual([row('before'), row('final')]);
    expect(await failedCaptures()).toBe(failedBefore);
  }, 30_000);

  it('a 30 MB unmapped value does not slow the capture of the mapped ones', async () => {
    await direct.hSet('staging:big', { blob: 'x'.repeat(30 * 1024 * 1024), age: '1' });
    const failedBefore = await failedCaptures();

    await h.client.rename('staging:big', 'person:big');
    await h.client.hSet('person:big', 'age', '2');

    const row = (age: string) => ({ op: 'u', key: 'person:big', table: 'persons', 'k:person_id': 'big', 'c:age': age, null: 'first,last' });
    expect(await captured(h.client)).toEqual([row('1'), row('2')]);
    expect(await failedCaptures()).toBe(failedBefore);
  }, 30_000);
});
