import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { connectNow, waitReady } from './fd-wait.js';
import { readWithin, READ_CHUNK } from './socket-reads.js';
import { startRedisServer, type RedisServer } from '../../../test/helpers/redis-server.js';
import { findFreePort } from '../../../bench/support/redis-server-process.js';

/** PING on a descriptor connectNow opened: it is connected, non-blocking and readable by the runtime's waits. */
function pings(fd: number): string {
  writeSync(fd, '*1\r\n$4\r\nPING\r\n');
  const into = Buffer.alloc(READ_CHUNK);
  const read = readWithin(fd, into, performance.now() + 2_000);
  return into.subarray(0, Math.max(read, 0)).toString();
}

describe.runIf(connectNow !== null)('connectNow (the fd-wait addon)', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer({ extraArgs: ['--unixsocket', 'redis.sock'] });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('connects to host:port, numeric or resolved, and to a Unix socket', () => {
    expect(waitReady).not.toBeNull();
    for (const [host, port, path] of [['127.0.0.1', server.port, ''], ['localhost', server.port, ''], ['', 0, join(server.dir, 'redis.sock')]] as const) {
      const fd = connectNow!(host, port, path, 2_000);
      try {
        expect(pings(fd)).toBe('+PONG\r\n');
      } finally {
        closeSync(fd);
      }
    }
  });

  it('fails at once, with the errno, where nothing listens or the host does not resolve', async () => {
    const port = await findFreePort();
    const started = performance.now();
    expect(() => connectNow!('127.0.0.1', port, '', 2_000)).toThrow(expect.objectContaining({ code: 'ECONNREFUSED', message: 'Connection refused' }));
    expect(() => connectNow!('', 0, join(server.dir, 'none.sock'), 2_000)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(() => connectNow!('nowhere.invalid', 6379, '', 2_000)).toThrow(expect.objectContaining({ code: 'ENOTFOUND' }));
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('gives up after its timeout on a server that never accepts', async () => {
    // A listener whose accept queue (backlog 1: two connections) is full drops further SYNs: connects hang.
    const deaf = spawn(process.execPath, ['-e', DEAF_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    const opened: number[] = [];
    try {
      const [port] = (await once(deaf.stdout!, 'data')) as [Buffer];
      let error: NodeJS.ErrnoException | undefined;
      let took = 0;
      for (let tries = 0; tries < 10 && error === undefined; tries++) {
        const started = performance.now();
        try {
          opened.push(connectNow!('127.0.0.1', Number(port.toString().trim()), '', 300));
        } catch (caught) {
          error = caught as NodeJS.ErrnoException;
          took = performance.now() - started;
        }
      }
      expect(error).toEqual(expect.objectContaining({ code: 'ETIMEDOUT', message: 'no connection within 300 ms' }));
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(1_000);
    } finally {
      for (const fd of opened) closeSync(fd);
      deaf.kill();
    }
  });
});

/** Listens, says its port, and never runs its event loop again, so it accepts nothing. */
const DEAF_SERVER = `
const server = require('node:net').createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  process.stdout.write(server.address().port + '\\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
});
`;
