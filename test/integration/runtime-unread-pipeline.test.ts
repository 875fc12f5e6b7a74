/**
 * A client that pipelines commands and never reads their replies. redis-server holds what it owes such a client
 * in its output buffer, bounded only by `client-output-buffer-limit normal` (0 0 0, unlimited, by default) and
 * `maxmemory-clients`: a crash there is the operator's choice. The runtime read every reply it was owed and
 * queued it in the client's socket: `GET` of a 1 MB value written in a loop grew the runtime until Node died,
 * and every client with it. The runtime is spawned here, so that its memory is its own and its death the test's
 * failure, not the test process's.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findFreePorts } from '../../bench/support/redis-server-process.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startRuntimeProcess, type RuntimeProcess } from '../helpers/runtime-process.js';
import { RespSocket } from '../helpers/resp-socket.js';
import { until } from '../helpers/until.js';

/** Picked in beforeAll, each the test's own. */
let REDIS_PORT: number;
let RUNTIME_PORT: number;
let METRICS_PORT: number;
const VALUE = 1024 * 1024;
/** How long the hostile client writes. */
const HOSTILE_MS = 8_000;
/** What the runtime may grow by while it does: far less than the ~4 GB of replies it is owed meanwhile. */
const GROWTH_BOUND = 150 * 1024 * 1024;

let redis: RedisServer;
let runtime: RuntimeProcess;

beforeAll(async () => {
  [REDIS_PORT, RUNTIME_PORT, METRICS_PORT] = (await findFreePorts(3)) as [number, number, number];
  redis = await startRedisServer({ port: REDIS_PORT });
  runtime = await startRuntimeProcess(redis, ['--port', String(RUNTIME_PORT), '--metrics-port', String(METRICS_PORT)]);
  expect(runtime.port).toBe(RUNTIME_PORT);
  const setter = await RespSocket.open(runtime.port);
  setter.send(['SET', 'unread:big', 'x'.repeat(VALUE)]);
  expect(await setter.readBytes(1)).toBe('+OK\r\n');
  setter.close();
});

afterAll(async () => {
  await runtime?.close();
  await redis?.stop();
});

/** The process's resident set (bytes), from /proc; Infinity once it is gone. */
function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
  } catch {
    return Infinity;
  }
}

/** The runtime's gauge of the bytes its clients are owed and have not taken. */
async function owedBytes(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${METRICS_PORT}/metrics`)).text();
  return Number(/^writebehind_runtime_client_owed_bytes (\d+)/m.exec(text)![1]);
}

function connected(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Writes `GET unread:big` for `ms`, waiting (bounded) whenever the socket holds what it cannot send; never reads.
 * Stops early once `enough()`: the runtime grew past the bound, or died.
 */
async function writeGetsFor(socket: Socket, ms: number, enough: () => boolean): Promise<void> {
  const gets = Buffer.from('*2\r\n$3\r\nGET\r\n$10\r\nunread:big\r\n'.repeat(1000));
  const until = Date.now() + ms;
  while (Date.now() < until && !socket.destroyed && !enough()) {
    if (!socket.write(gets)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          socket.off('drain', done);
          resolve();
        };
        const timer = setTimeout(done, 50);
        socket.once('drain', done);
      });
    } else {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

describe('a client that pipelines without reading, through the runtime', () => {
  it('keeps the runtime alive with its memory bounded, and other clients served', { timeout: 60_000 }, async () => {
    const before = rssOf(runtime.pid);

    const hostile = await connected(runtime.port);
    hostile.pause(); // never reads: what it is owed stays with the runtime, or in the server
    hostile.on('error', () => undefined);
    let peak = before;
    const sample = () => {
      peak = Math.max(peak, rssOf(runtime.pid));
      return peak - before > 2 * GROWTH_BOUND;
    };
    let owedPeak = 0;
    const owedSampler = setInterval(() => void owedBytes().then((owed) => (owedPeak = Math.max(owedPeak, owed)), () => undefined), 100);
    await writeGetsFor(hostile, HOSTILE_MS, sample);
    clearInterval(owedSampler);
    sample();
    const grown = peak - before;
    expect(grown, `the runtime grew by ${Math.round(grown / 1024 / 1024)} MB`).toBeLessThan(GROWTH_BOUND);
    // What it holds for the client: its 256 KB and the replies in flight (16 of 1 MB before the first is seen).
    expect(owedPeak).toBeGreaterThan(0);
    expect(owedPeak).toBeLessThan(20 * VALUE);

    // Another client is still answered, at once.
    const started = Date.now();
    expect(await RespSocket.call(runtime.port, 'PING')).toBe('+PONG\r\n');
    expect(Date.now() - started).toBeLessThan(2_000);
    hostile.destroy();
    // Still the same process, and it lets go of the client's replies once it is gone.
    expect(await Promise.race([runtime.exited().then(() => 'exited'), new Promise((resolve) => setTimeout(() => resolve('running'), 200))])).toBe('running');
    await until(async () => RespSocket.call(runtime.port, 'PING'), (reply) => reply === '+PONG\r\n', 5_000);
  });
});

describe('a client that does not read, whose server connection redis-server closed', () => {
  it('is dropped by the runtime with what it was owed, not kept half-closed until the runtime stops', { timeout: 30_000 }, async () => {
    const hostile = await connected(runtime.port);
    hostile.pause();
    hostile.on('error', () => undefined);
    try {
      hostile.write('*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$9\r\nlingering\r\n');
      hostile.write('*2\r\n$3\r\nGET\r\n$10\r\nunread:big\r\n'.repeat(200));
      await until(owedBytes, (owed) => owed > VALUE, 10_000);
      const list = await RespSocket.call(runtime.port, 'CLIENT', 'LIST');
      const id = /id=(\d+) [^\n]* name=lingering /.exec(list)?.[1];
      expect(id, list).toBeDefined();
      expect(await RespSocket.call(REDIS_PORT, 'CLIENT', 'KILL', 'ID', id!)).toBe(':1\r\n');
      // The server closed the client's connection: redis-server itself drops such a client at once, output and all.
      await until(owedBytes, (owed) => owed === 0, 5_000);
    } finally {
      hostile.destroy();
    }
  });
});

/**
 * A client on `port` that, once connected and answered a PING, writes 4 GETs of a 1 KB value every millisecond
 * for `ms` and reads nothing: what it is owed grows, once the kernel's buffers are full, where redis-server or the
 * runtime counts it against the limit, one reply at a time. (Commands read together, as before the runtime's
 * connection to the server is open, are sent together, and their replies are counted by the server first: it then
 * closes the runtime's connection, and the runtime the client.)
 */
async function tricklingOn(port: number, ms: number): Promise<Socket> {
  const socket = await connected(port);
  socket.on('error', () => undefined);
  socket.write('*1\r\n$4\r\nPING\r\n');
  await new Promise((resolve) => socket.once('data', resolve));
  socket.pause();
  const get = Buffer.from('*2\r\n$3\r\nGET\r\n$12\r\nunread:small\r\n'.repeat(4));
  const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write(get)), 1);
  setTimeout(() => clearInterval(timer), ms);
  return socket;
}

/**
 * Whether `socket` is closed by its peer, once it reads (and drops) what it was sent: a close behind replies the
 * client never read reaches it only then.
 */
function closedOnceRead(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(socket.destroyed), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.on('data', () => undefined);
    socket.resume();
  });
}

describe("redis-server's client-output-buffer-limit normal, through the runtime", () => {
  const setLimit = (value: string) => RespSocket.call(runtime.port, 'CONFIG', 'SET', 'client-output-buffer-limit', value);

  beforeAll(async () => {
    expect(await RespSocket.call(runtime.port, 'SET', 'unread:small', 'y'.repeat(1024))).toBe('+OK\r\n');
  });

  afterEach(async () => {
    expect(await setLimit('normal 0 0 0')).toBe('+OK\r\n');
  });

  it('closes a client past the hard limit, as redis-server closes it, after a CONFIG SET through the runtime', { timeout: 30_000 }, async () => {
    expect(await setLimit('normal 100kb 0 0')).toBe('+OK\r\n');
    const direct = await tricklingOn(REDIS_PORT, 20_000);
    const through = await tricklingOn(RUNTIME_PORT, 20_000);
    try {
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      expect({ direct: await closedOnceRead(direct, 5_000), through: await closedOnceRead(through, 5_000) }).toEqual({ direct: true, through: true });
      // Closed by the runtime (past the limit in its socket), or by redis-server (past it on the runtime's
      // connection: a burst of replies the runtime had not read yet), which closes the client too.
      expect(await RespSocket.call(runtime.port, 'PING')).toBe('+PONG\r\n');
    } finally {
      direct.destroy();
      through.destroy();
    }
  });

  it('closes a client past the soft limit once it stayed past it for longer than its seconds, not before', { timeout: 45_000 }, async () => {
    expect(await setLimit('normal 0 100kb 2')).toBe('+OK\r\n');
    const direct = await tricklingOn(REDIS_PORT, 20_000);
    const through = await tricklingOn(RUNTIME_PORT, 20_000);
    const early = await tricklingOn(RUNTIME_PORT, 20_000);
    try {
      // Past the limit within a second or so (several MB a second; the kernel's buffers take a few hundred KB).
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(await closedOnceRead(early, 1_000)).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      // redis-server's own close, the baseline, comes once the kernel's buffers are full and 2 s have passed: on
      // a loaded machine later than the runtime's. Waited for on the server (reading would drain it instead).
      await until(() => RespSocket.call(REDIS_PORT, 'CLIENT', 'LIST'), (list) => !list.includes(`addr=127.0.0.1:${direct.localPort} `), 15_000);
      expect({ direct: await closedOnceRead(direct, 5_000), through: await closedOnceRead(through, 5_000) }).toEqual({ direct: true, through: true });
      expect(runtime.output()).toMatch(/"limit":"soft".*client closed for overcoming of output buffer limits/);
    } finally {
      direct.destroy();
      through.destroy();
      early.destroy();
    }
  });

  it('leaves a client that reads as it pipelines with all its replies, in order', { timeout: 30_000 }, async () => {
    const reader = await RespSocket.open(runtime.port);
    const count = 300;
    for (let i = 0; i < count; i++) reader.send(['GET', 'unread:big'], ['ECHO', String(i)]);
    const replies = await reader.read(2 * count, 20_000);
    for (let i = 0; i < count; i++) {
      expect(replies[2 * i]!.raw.length).toBe(VALUE + 12);
      expect(replies[2 * i + 1]!.raw.toString()).toBe(`$${String(i).length}\r\n${i}\r\n`);
    }
    reader.close();
  });
});
