/**
 * The runtime's own Prometheus metrics (`writebehind runtime --metrics-port`): how long the exclusive lock is
 * held and waited for. A captured write holds it for its whole trigger window, so the held share of time is the
 * share of the runtime's capture capacity in use, the figure to alert on before writes start to queue.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../bench/support/redis-server-process.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { connectTestClient, type TestClient } from '../helpers/redis-client.js';

const CLI = fileURLToPath(new URL('../../dist/src/cli/index.js', import.meta.url));
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
    const child = spawn(process.execPath, [CLI, 'runtime', '--port', '0', '--redis', redis.url, '--metrics-port', String(metricsPort), '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let stdout = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          const match = /listening on (redis:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
          if (match) resolve(match[1]!);
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${stdout}`)));
      });
      const client = await connectTestClient(url, clients);
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
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
      }
    }
  });
});
