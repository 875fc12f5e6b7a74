/**
 * The runtime's own Prometheus metrics (`writebehind runtime --metrics-port`): how long the exclusive lock is
 * held and waited for. A captured write holds it for its whole trigger window, so the held share of time is the
 * share of the runtime's capture capacity in use, the figure to alert on before writes start to queue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../bench/support/redis-server-process.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { connectTestClient, type TestClient } from '../helpers/redis-client.js';
import { startRuntimeProcess } from '../helpers/runtime-process.js';

const LIBRARY = `#!js api_version=1.0 name=metered
redis.registerKeySpaceTrigger('seen', 'm:', (client, data) => { client.call('incr', 'fired'); });`;
const WRITES = 20;

let redis: RedisServer;
const clients: TestClient[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  await redis?.stop();
});

/** One sample's value from a Prometheus text exposition; NaN when the sample is not there. */
function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

describe('writebehind runtime --metrics-port', () => {
  it('serves GET /metrics with the exclusive lock\'s hold and wait times: one hold per captured write', { timeout: 30_000 }, async () => {
    const metricsPort = await findFreePort();
    const runtime = await startRuntimeProcess(redis, ['--metrics-port', String(metricsPort)]);
    try {
      const client = await connectTestClient(runtime.url, clients);
      expect(await client.sendCommand(['TFUNCTION', 'LOAD', LIBRARY])).toBe('OK');
      const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const before = sample(await scrape(), 'writebehind_runtime_exclusive_lock_hold_seconds_count');
      for (let i = 0; i < WRITES; i++) await client.hSet(`m:${i}`, 'f', 'v');
      expect(await client.get('fired')).toBe(String(WRITES));
      const text = await scrape();
      expect(sample(text, 'writebehind_runtime_exclusive_lock_hold_seconds_count') - before).toBeGreaterThanOrEqual(WRITES);
      expect(sample(text, 'writebehind_runtime_exclusive_lock_hold_seconds_sum')).toBeGreaterThan(0);
      expect(sample(text, 'writebehind_runtime_exclusive_lock_wait_seconds_count')).toBe(sample(text, 'writebehind_runtime_exclusive_lock_hold_seconds_count'));
      expect((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status).toBe(404);
    } finally {
      expect(await runtime.close()).toBe(0);
    }
  });
});
