/**
 * Eviction on the runtime: a mapped hash evicted under memory pressure deletes its row (like expiry), and a
 * writer with `onExpire: keep` keeps it. Only keys with a TTL are evictable here (volatile-lru), so the
 * capture stream itself is never evicted.
 */
import { describe, expect, it } from 'vitest';
import { captured, PERSONS, SESSIONS, useLibraryHarness } from '../fixtures/library-harness.js';

const h = useLibraryHarness({ serverArgs: ['--maxmemory', '8mb', '--maxmemory-policy', 'volatile-lru', '--maxmemory-samples', '10'], flush: false });

/** An unmapped field big enough to fill the server in a few writes; it never reaches a record. */
const BLOB = 'x'.repeat(512 * 1024);

describe('eviction', () => {
  it('deletes the row of an evicted hash, and keeps it for a writer with onExpire keep', async () => {
    const evictedBefore = await evictedKeys();
    for (let i = 1; i <= 30; i++) {
      await h.client.hSet(`person:${i}`, { age: String(i), blob: BLOB });
      await h.client.expire(`person:${i}`, 3600);
      await h.client.hSet(`session:${i}`, { user: `u${i}`, blob: BLOB });
      await h.client.expire(`session:${i}`, 3600);
    }
    // Redis evicts before any command while above maxmemory, reads included: stop evicting before looking.
    await h.client.configSet('maxmemory', '0');
    expect(await evictedKeys()).toBeGreaterThan(evictedBefore);

    const gone: string[] = [];
    for (let i = 1; i <= 30; i++) if ((await h.client.exists(`person:${i}`)) === 0) gone.push(String(i));
    expect(gone.length).toBeGreaterThan(0);
    const deletes = async () => (await captured(h.client, PERSONS)).filter((r) => r['op'] === 'd').map((r) => r['k:person_id']!).sort();
    expect(await deletes()).toEqual(gone.sort());

    let sessionsGone = 0;
    for (let i = 1; i <= 30; i++) sessionsGone += 1 - (await h.client.exists(`session:${i}`));
    expect(sessionsGone).toBeGreaterThan(0);
    expect((await captured(h.client, SESSIONS)).filter((r) => r['op'] === 'd')).toEqual([]);
  });
});

async function evictedKeys(): Promise<number> {
  const info = await h.client.info('stats');
  return Number(/evicted_keys:(\d+)/.exec(info)?.[1] ?? 'NaN');
}
