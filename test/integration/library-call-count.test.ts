/**
 * What a captured write costs inside Redis: the library's calls per captured HSET, watched with MONITOR on the
 * redis-server behind the runtime (the runtime's own commands, markers and stream reads, are not counted).
 * Every call is made under the lock that serialises captured writes, on Redis Stack as on the runtime.
 */
import { describe, expect, it } from 'vitest';
import { useLibraryHarness } from '../fixtures/library-harness.js';
import { monitored as monitorServer } from '../helpers/monitor.js';

const h = useLibraryHarness();
const WRITES = 10;

/** The commands redis-server saw while `work` ran, as MONITOR lines. */
const monitored = (work: () => Promise<void>) => monitorServer(h.server.url, work, () => h.client.ping());

const named = (lines: string[], pattern: RegExp) => lines.filter((line) => pattern.test(line));

describe('library calls per captured HSET', () => {
  it('two: one HMGET of the hash, one XADD NOMKSTREAM that doubles as the database probe; the batcher makes none between cuts', async () => {
    await h.client.hSet('person:0', 'age', '0'); // the batcher takes the writer over on its first record
    const lines = await monitored(async () => {
      for (let i = 1; i <= WRITES; i++) await h.client.hSet(`person:${i}`, 'age', String(i));
    });
    // The capture stream exists (person:0 created it): no MOVE probe is needed to know this is database 0.
    expect(named(lines, /\] "MOVE"/)).toEqual([]);
    expect(named(lines, /\] "[A-Za-z]+" "person:\d+"/).filter((line) => !/\] "HSET"/.test(line))).toEqual(
      Array.from({ length: WRITES }, (_, i) => expect.stringMatching(new RegExp(`\\] "HMGET" "person:${i + 1}" "#" "first_name" "last_name" "age"$`))),
    );
    expect(named(lines, /\] "XADD" "wb:changes:\{PersonsWriteBehind\}" "NOMKSTREAM" "\*"/)).toHaveLength(WRITES);
    expect(named(lines, /\] "XADD"/)).toHaveLength(WRITES);
    expect(named(lines, /"wb:meta:/)).toEqual([]);
    expect(named(lines, /"wb:batches:/)).toEqual([]);
  });

  it('a divergence record costs + and - writes one HSET each, = and ~ writes nothing', async () => {
    await h.client.hSet('person:d0', 'age', '0');
    const lines = await monitored(async () => {
      for (let i = 1; i <= WRITES; i++) {
        await h.client.hSet(`person:d${i}`, { age: String(i), '#': '=' });
        await h.client.hSet(`person:d${i}`, { age: String(i + 1), '#': '+' });
        await h.client.hSet(`person:e${i}`, { age: String(i), '#': '~' });
        await h.client.hSet(`person:d${i}`, { '#': '-' });
      }
    });
    const records = named(lines, /"wb:divergent:/);
    expect(records).toHaveLength(2 * WRITES);
    expect(records.every((line) => /\] "HSET" "wb:divergent:\{PersonsWriteBehind\}" "person:d\d+" "(-|\+[0-9a-f]{16})"$/.test(line)), records.join('\n')).toBe(true);
  });
});
