import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readWithin, READ_CHUNK } from './socket-reads.js';
import { waitReady, type WaitReady } from './fd-wait.js';
import { MAX_SPIN_US, SpinBudget } from './spin-budget.js';
import { encodeCommand } from '../resp/encoder.js';
import { startRedisServer, type RedisServer } from '../../../test/helpers/redis-server.js';
import { ownedConnection } from '../../../test/helpers/owned-connection.js';

const WITHOUT_ADDON = ['reads and sleeps without the fd-wait addon', null] as const;
/** The fallback always; poll(2) where the addon was built. */
const WAITS = waitReady === null ? [WITHOUT_ADDON] : [['poll(2) through the fd-wait addon', waitReady] as const, WITHOUT_ADDON];

describe('readWithin', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('has the addon whenever npm built it', () => {
    const built = fileURLToPath(new URL('../../../native/fd-wait/build/Release/fd_wait.node', import.meta.url));
    expect(waitReady !== null).toBe(existsSync(built));
  });

  describe.each(WAITS)('waiting with %s', (_, wait) => {
    it('returns a reply that comes later', async () => {
      const { socket, fd } = await ownedConnection(server.port);
      const into = Buffer.alloc(READ_CHUNK);
      writeSync(fd, encodeCommand(['BLPOP', 'no-such-list', '0.05']));
      const started = performance.now();
      const read = readWithin(fd, into, started + 5000, wait);
      const waited = performance.now() - started;
      expect(into.subarray(0, read).toString()).toBe('*-1\r\n');
      expect(waited).toBeGreaterThan(40);
      expect(waited).toBeLessThan(1000);
      socket.destroy();
    });

    it('gives up at the deadline, sleeping meanwhile, and reports the end of the stream', async () => {
      const { socket, fd } = await ownedConnection(server.port);
      const into = Buffer.alloc(READ_CHUNK);
      const started = performance.now();
      expect(readWithin(fd, into, started + 30, wait)).toBe(-1);
      expect(performance.now() - started).toBeGreaterThanOrEqual(30);
      const cpu = process.cpuUsage();
      expect(readWithin(fd, into, performance.now() + 200, wait)).toBe(-1);
      const spent = process.cpuUsage(cpu);
      expect((spent.user + spent.system) / 1000).toBeLessThan(100); // ms of CPU in a 200 ms wait: it sleeps
      expect(readWithin(fd, into, 0, wait)).toBe(-1); // a deadline already past still looks once
      writeSync(fd, encodeCommand(['QUIT']));
      expect(into.subarray(0, readWithin(fd, into, performance.now() + 5000, wait)).toString()).toBe('+OK\r\n');
      expect(readWithin(fd, into, performance.now() + 5000, wait)).toBe(0);
      socket.destroy();
    });
  });

  describe.runIf(waitReady !== null)('spinning before the sleep', () => {
    /** The addon's wait, noting the spin each call asked for. */
    function noting(spins: number[]): WaitReady {
      return (fd, forWrite, timeoutMs, spinUs) => {
        spins.push(spinUs ?? 0);
        return waitReady!(fd, forWrite, timeoutMs, spinUs);
      };
    }

    it('polls for the budget on the first wait only, and a reply that came within it keeps the budget', async () => {
      const { socket, fd } = await ownedConnection(server.port);
      const into = Buffer.alloc(READ_CHUNK);
      const spins: number[] = [];
      const budget = new SpinBudget();
      writeSync(fd, encodeCommand(['BLPOP', 'no-such-list', '0.05'])); // answered after 50 ms: several polls
      expect(into.subarray(0, readWithin(fd, into, performance.now() + 5000, noting(spins), budget)).toString()).toBe('*-1\r\n');
      expect(spins[0]).toBe(MAX_SPIN_US);
      expect(spins.slice(1).every((spin) => spin === 0)).toBe(true);
      expect(spins.length).toBeGreaterThan(1);
      socket.destroy();
    });

    it('neither spins nor counts a last look with less time left than the budget', () => {
      const spins: number[] = [];
      const budget = new SpinBudget();
      const never: WaitReady = (_fd, _forWrite, _timeoutMs, spinUs) => (spins.push(spinUs ?? 0), false);
      for (let i = 0; i < 50; i++) expect(readWithin(-1, Buffer.alloc(1), 0, never, budget)).toBe(-1);
      expect(spins.every((spin) => spin === 0)).toBe(true);
      expect(budget.next()).toBe(MAX_SPIN_US); // 50 misses counted would have switched the polling off
    });

    it('spins no longer than the wait may last, and still sleeps after the spin', async () => {
      const { socket, fd } = await ownedConnection(server.port);
      let started = performance.now();
      expect(waitReady!(fd, false, 0.01, 1_000_000)).toBe(false); // a 10 µs wait asked to spin a second
      expect(performance.now() - started).toBeLessThan(200);
      const cpu = process.cpuUsage();
      started = performance.now();
      expect(waitReady!(fd, false, 100, 1000)).toBe(false);
      expect(performance.now() - started).toBeGreaterThanOrEqual(99);
      const spent = process.cpuUsage(cpu);
      expect((spent.user + spent.system) / 1000).toBeLessThan(40);
      socket.destroy();
    });
  });
});
