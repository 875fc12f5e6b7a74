import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { writeSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { readWithin, READ_CHUNK, socketDescriptor } from './socket-reads.js';
import { waitReady } from './fd-wait.js';
import { encodeCommand } from '../resp/encoder.js';
import { startRedisServer, type RedisServer } from '../../../test/helpers/redis-server.js';

/** A connection to `port` whose descriptor only the test reads (libuv stopped reading it). */
async function ownedConnection(port: number): Promise<{ socket: Socket; fd: number }> {
  const socket = createConnection({ host: '127.0.0.1', port });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  (socket as unknown as { _handle: { readStop(): number } })._handle.readStop();
  return { socket, fd: socketDescriptor(socket) };
}

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
});
