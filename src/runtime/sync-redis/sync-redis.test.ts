import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { SyncRedis } from './sync-redis.js';
import type { Logger } from '../../shared/log.js';
import { startRedisServer, type RedisServer } from '../../../test/helpers/redis-server.js';

// The lock timeout never cuts a call short: library code's calls are host callbacks, which isolated-vm runs to
// their end (test/integration/library-call-timeout.test.ts).
describe('SyncRedis', () => {
  let server: RedisServer;
  let redis: SyncRedis;
  beforeAll(async () => {
    server = await startRedisServer();
    redis = await SyncRedis.create(server.url);
  });
  afterAll(async () => {
    await redis.close();
    await server.stop();
  });

  it('runs each call in the database it names, selecting only when the connection is on another', () => {
    expect(redis.call(['SET', 'where', 'db0'], 0)).toEqual({ type: 'simple', value: 'OK' });
    const info = redis.batch([['SET', 'where', 'db5'], ['CLIENT', 'INFO']], 5)[1] as { value: Buffer };
    expect(info.value.toString()).toContain(' db=5 ');
    expect(redis.call(['GET', 'where'])).toEqual({ type: 'blob', value: Buffer.from('db5') });
    expect(redis.call(['GET', 'where'], 0)).toEqual({ type: 'blob', value: Buffer.from('db0') });
  });

  it("starts in the URL's database and still selects database 0 for a call that names it", async () => {
    const other = await SyncRedis.create(`${server.url}/3`);
    try {
      expect(other.call(['SET', 'url-db', 'in-3'])).toEqual({ type: 'simple', value: 'OK' });
      expect(other.call(['SET', 'url-db', 'in-0'], 0)).toEqual({ type: 'simple', value: 'OK' });
      expect(redis.call(['GET', 'url-db'], 3)).toEqual({ type: 'blob', value: Buffer.from('in-3') });
      expect(redis.call(['GET', 'url-db'], 0)).toEqual({ type: 'blob', value: Buffer.from('in-0') });
    } finally {
      await other.close();
    }
  });

  it('writes commands and reads replies larger than the socket buffers', () => {
    const value = Buffer.alloc(8 * 1024 * 1024, 7);
    value[0] = 0xff; // not UTF-8: bytes go through unchanged
    expect(redis.call(['SET', 'big', value])).toEqual({ type: 'simple', value: 'OK' });
    const replies = redis.batch([['GET', 'big'], ['STRLEN', 'big']]);
    expect(Buffer.compare((replies[0] as { value: Buffer }).value, value)).toBe(0);
    expect(replies[1]).toEqual({ type: 'integer', value: BigInt(value.length) });
  });

  it('reports a closed connection as an error, not a hang', async () => {
    const other = await SyncRedis.create(server.url);
    const id = other.call(['CLIENT', 'ID']) as { value: bigint };
    redis.call(['CLIENT', 'KILL', 'ID', String(id.value)]);
    expect(() => other.call(['PING'])).toThrow(/closed|failed/);
    expect(() => other.call(['PING'])).toThrow(/closed|failed/);
    await other.close();
  });

  it('with reconnect, opens a killed connection again in the call that finds it closed, with its settings, and tells its id', async () => {
    const warned: unknown[] = [];
    const log = { warn: (fields: unknown) => void warned.push(fields), debug: () => undefined } as unknown as Logger;
    const ids: number[] = [];
    const other = await SyncRedis.create(`${server.url}/2`, { reconnect: { log }, onConnection: (id) => void ids.push(id) });
    try {
      other.keepSetting(['CLIENT', 'NO-EVICT', 'ON']);
      redis.call(['CLIENT', 'KILL', 'ID', String(ids[0])]);
      // The call runs, on a connection opened again before it was sent.
      expect(other.call(['SET', 'reopened', 'yes'])).toEqual({ type: 'simple', value: 'OK' });
      expect(ids).toHaveLength(2);
      expect(redis.call(['GET', 'reopened'], 2)).toEqual({ type: 'blob', value: Buffer.from('yes') });
      const info = (other.call(['CLIENT', 'INFO']) as { value: Buffer }).value.toString();
      expect(info).toContain(`id=${ids[1]} `);
      expect(info).toContain('name=writebehind-runtime-sync ');
      expect(info).toContain(' db=2 ');
      expect(info).toMatch(/ flags=\S*e/);
      expect(warned).toEqual([expect.objectContaining({ connection: 'sync', err: 'connection to redis-server closed' })]);
    } finally {
      await other.close();
    }
  });

  it('with reconnect, fails a call quickly with the address and why while the server is down, and runs the next once it is back', async () => {
    const log = { warn: () => undefined, debug: () => undefined } as unknown as Logger;
    const own = await startRedisServer();
    // The default user takes any password (nopass): the URL's only shows whether messages leave it out.
    const other = await SyncRedis.create(`redis://default:s3cret@127.0.0.1:${own.port}`, { reconnect: { log } });
    try {
      other.keepSetting(['CLIENT', 'NO-EVICT', 'ON']);
      await own.kill();
      const started = performance.now();
      expect(() => other.call(['PING'])).toThrow(`the runtime's sync connection to redis-server at 127.0.0.1:${own.port} was closed (connection to redis-server closed) and cannot be opened again: SyncRedis cannot connect to 127.0.0.1:${own.port}: ECONNREFUSED Connection refused`);
      expect(() => other.call(['PING'])).toThrow(/cannot be opened again: SyncRedis cannot connect to 127\.0\.0\.1:\d+: ECONNREFUSED/);
      expect(performance.now() - started).toBeLessThan(2_000);
      let message = '';
      try {
        other.call(['PING']);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).not.toContain('s3cret');
      await own.restart();
      // The handshake (HELLO with AUTH) and the settings run again.
      expect(other.call(['PING'])).toEqual({ type: 'simple', value: 'PONG' });
      expect((other.call(['CLIENT', 'INFO']) as { value: Buffer }).value.toString()).toMatch(/ flags=\S*e/);
    } finally {
      await other.close();
      await own.stop();
    }
  });

  it('with reconnect but without the blocking connect (no fd-wait addon), opens a killed connection again in the background, with its settings, and tells its id', async () => {
    const warned: unknown[] = [];
    const log = { warn: (fields: unknown) => void warned.push(fields), debug: () => undefined } as unknown as Logger;
    const ids: number[] = [];
    const other = await SyncRedis.create(server.url, { reconnect: { log, connectNow: null }, onConnection: (id) => void ids.push(id) });
    try {
      other.keepSetting(['CLIENT', 'NO-EVICT', 'ON']);
      redis.call(['CLIENT', 'KILL', 'ID', String(ids[0])]);
      // The PING went out on the closed connection: its error names the server and what closes a connection.
      const closed = `redis-server at 127.0.0.1:${server.port} closed the runtime's sync connection before answering PING: a reply larger than its client-output-buffer-limit for normal clients closes the connection`;
      expect(() => other.call(['PING'])).toThrow(closed);
      expect(() => other.call(['PING'])).toThrow(`the runtime's sync connection to redis-server at 127.0.0.1:${server.port} was closed (${closed}`);
      expect(() => other.call(['PING'])).toThrow(/\); it is being opened again$/);
      await expect.poll(() => ids.length).toBe(2);
      const info = (other.call(['CLIENT', 'INFO']) as { value: Buffer }).value.toString();
      expect(info).toContain(`id=${ids[1]} `);
      expect(info).toContain('name=writebehind-runtime-sync ');
      expect(info).toMatch(/ flags=\S*e/);
      expect(warned).toEqual([expect.objectContaining({ connection: 'sync', err: expect.stringContaining(closed) })]);
    } finally {
      await other.close();
    }
  });

  it('with reconnect, keeps an idle connection from redis-server\'s `timeout`, and finds a killed one before a call does', async () => {
    const log = { warn: () => undefined, debug: () => undefined } as unknown as Logger;
    const ids: number[] = [];
    const other = await SyncRedis.create(server.url, { reconnect: { log }, onConnection: (id) => void ids.push(id) });
    redis.call(['CONFIG', 'SET', 'timeout', '1']);
    try {
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(other.call(['PING'])).toEqual({ type: 'simple', value: 'PONG' });
      expect(ids).toHaveLength(1);
      // The test's own connection was idle too: another kills.
      const admin = await SyncRedis.create(server.url);
      admin.call(['CONFIG', 'SET', 'timeout', '0']);
      admin.call(['CLIENT', 'KILL', 'ID', String(ids[0])]);
      await admin.close();
      await expect.poll(() => ids.length).toBe(2);
      expect(other.call(['PING'])).toEqual({ type: 'simple', value: 'PONG' });
    } finally {
      redis = await SyncRedis.create(server.url);
      await other.close();
    }
  });

  it('with reconnect, never holds the thread on its keepalive while the server is paused', async () => {
    const log = { warn: () => undefined, debug: () => undefined } as unknown as Logger;
    const other = await SyncRedis.create(server.url, { reconnect: { log } });
    try {
      redis.call(['CLIENT', 'PAUSE', '1200', 'ALL']);
      let last = performance.now();
      let longestGap = 0;
      const ticker = setInterval(() => {
        longestGap = Math.max(longestGap, performance.now() - last);
        last = performance.now();
      }, 10);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      clearInterval(ticker);
      expect(longestGap).toBeLessThan(300);
      // The PING sent meanwhile is answered once the pause ends, in front of this call's reply.
      expect(other.call(['ECHO', 'after'])).toEqual({ type: 'blob', value: Buffer.from('after') });
    } finally {
      await other.close();
    }
  });

  it("a call cut short by an exception once its command went out (a stack overflow) leaves no reply to be read as the next call's", async () => {
    // A runaway recursion of store writes (library-store.ts relocating for ever on a replica) overflowed the stack
    // inside a call: its reply stayed unread, and every later call of the connection got the one before's.
    const warnings: string[] = [];
    const log = { warn: (fields: unknown, message: string) => warnings.push(`${message} ${JSON.stringify(fields)}`), debug: () => undefined } as unknown as Logger;
    const other = await SyncRedis.create(server.url, { reconnect: { log } });
    const deep = (depth: number): number => (other.call(['ECHO', String(depth)]), deep(depth + 1) + 1);
    try {
      // The overflow lands at another point of a call each time (the frames differ by the ECHO's length).
      for (let i = 0; i < 20; i++) {
        expect(() => deep(i * 7)).toThrow();
        expect(other.call(['ECHO', `after ${i}`])).toEqual({ type: 'blob', value: Buffer.from(`after ${i}`) });
      }
      // The runtime closed that connection itself: its warning must not send an operator to redis-server's logs.
      expect(warnings.length).toBeGreaterThan(0);
      for (const warning of warnings) expect(warning).toMatch(/^a call cut short .*opened it again/);
    } finally {
      await other.close();
    }
  });

  it('reports a reply that is not RESP as a broken connection, not a hang or a reply to the next call', async () => {
    // A server in another process (a call blocks this one's event loop): +OK to HELLO, then bytes that are not RESP.
    const fake = spawn(process.execPath, ['-e', FAKE_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [port] = (await once(fake.stdout!, 'data')) as [Buffer];
      const other = await SyncRedis.create(`redis://127.0.0.1:${port.toString().trim()}`);
      expect(() => other.call(['PING'])).toThrow(/malformed reply/);
      expect(() => other.call(['PING'])).toThrow(/malformed reply/);
      await other.close();
    } finally {
      stop(fake);
    }
  });
});

const FAKE_SERVER = `
const replies = [Buffer.from('+OK\\r\\n'), Buffer.from('?no RESP\\r\\n')];
const server = require('node:net').createServer((socket) => {
  socket.on('data', () => socket.write(replies.shift() ?? Buffer.from('+PONG\\r\\n')));
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

function stop(child: ChildProcess): void {
  if (child.exitCode === null) child.kill();
}
