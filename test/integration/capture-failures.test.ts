/**
 * A capture that fails inside Redis (the trigger throws, or lock-redis-timeout kills it) never fails the
 * client's write: it must show in `writebehind status`, in the worker's metrics and log, and with the key
 * wherever the library could catch it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { runStatus } from '../../src/cli/actions/status.js';
import { CaptureFailureWatch } from '../../src/worker/capture-failure-watch.js';
import { LibraryListingPoll } from '../../src/worker/library-listing-poll.js';
import { RedisStreamClient } from '../../src/worker/redis/redis-stream-client.js';
import { testConfig } from '../fixtures/library-configs.js';
import { PERSONS, readStream, useLibraryHarness } from '../fixtures/library-harness.js';
import { recordedLog } from '../helpers/recorded-log.js';

const config = testConfig();
const h = useLibraryHarness({ config });
const dir = mkdtempSync(join(tmpdir(), 'wb-capture-failures-'));
const configFile = join(dir, 'config.json');
writeFileSync(configFile, JSON.stringify(config));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Makes every capture of the persons writer throw: its capture stream is a string, so XADD fails WRONGTYPE. */
async function breakPersonsCapture(): Promise<void> {
  await h.client.set(PERSONS.changes, 'not a stream');
}

describe('failed captures', () => {
  it('the write still succeeds; the library dead-letters the key with the reason', async () => {
    await breakPersonsCapture();
    expect(await h.client.hSet('person:7', 'age', '1')).toBe(1);
    const [letter] = await readStream(h.client, PERSONS.deadLetters);
    expect(letter?.fields).toMatchObject({ key: 'person:7', 'dlq:stage': 'capture' });
    expect(letter?.fields['dlq:reason']).toMatch(/^capture failed: .*WRONGTYPE/);
  });

  it('writebehind status reports the failed captures and the last error per writer', async () => {
    await breakPersonsCapture();
    await h.client.hSet('person:7', 'age', '1');
    await h.client.hSet('person:8', 'age', '1');
    await h.client.del(PERSONS.changes); // the backlog's stream again, so status can read it
    const report = await runStatus({ redis: h.url, config: configFile, json: true }, () => undefined);
    const persons = report.writers.find((w) => w.writer === 'PersonsWriteBehind');
    expect(persons?.failedCaptures).toBeGreaterThanOrEqual(2);
    expect(persons?.lastCaptureError).toMatch(/WRONGTYPE/);
    expect(report.writers.find((w) => w.writer === 'OrdersWriteBehind')?.failedCaptures).toBe(0);
    let text = '';
    await runStatus({ redis: h.url, config: configFile }, (line) => (text += line));
    expect(text).toMatch(/PersonsWriteBehind: .*FAILED CAPTURES \d+ \(not replicated; re-write those keys\): .*WRONGTYPE/);
    expect(text).toMatch(/; last error at \d{4}-\d\d-\d\dT[\d:.]+Z: capture/);
  });

  it("the worker's watch logs a warning naming the writer and exports the count as a metric", async () => {
    const { log, lines } = recordedLog('info');
    const client = await RedisStreamClient.connect(h.url);
    const registry = new Registry();
    const poll = new LibraryListingPoll({ listings: () => client.libraryListings(), library: 'WriteBehind', log, intervalMs: 50 });
    CaptureFailureWatch.on(poll, { writers: ['PersonsWriteBehind', 'OrdersWriteBehind'], log, registry });
    poll.start();
    try {
      await breakPersonsCapture();
      await h.client.hSet('person:9', 'age', '1');
      await expect.poll(() => lines.filter((line) => line['writer'] === 'PersonsWriteBehind').length, { timeout: 5000 }).toBeGreaterThan(0);
      const warning = lines.find((line) => line['writer'] === 'PersonsWriteBehind');
      expect(warning).toMatchObject({ level: 40 });
      expect(String(warning?.['lastError'])).toMatch(/WRONGTYPE/);
      expect(await registry.metrics()).toMatch(/writebehind_capture_failures\{writer="PersonsWriteBehind"\} [1-9]/);
    } finally {
      poll.stop();
      await client.close();
    }
  });

  it('a read in flight when the poll stops (a primary that died answers nothing until it is failed over) reaches no watch when it ends', async () => {
    const silent = pino({ level: 'silent' });
    let answer: (reply: unknown) => void = () => undefined;
    const poll = new LibraryListingPoll({ listings: () => [() => new Promise((resolve) => (answer = resolve))], library: 'WriteBehind', log: silent, intervalMs: 50 });
    const read: unknown[] = [];
    poll.onRead((replies) => read.push(replies));
    poll.start();
    poll.stop();
    answer([]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(read).toEqual([]);
  });
});
