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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startRuntimeProcess, type RuntimeProcess } from '../helpers/runtime-process.js';
import { RespSocket } from '../helpers/resp-socket.js';
import { until } from '../helpers/until.js';

const REDIS_PORT = 6540;
const RUNTIME_PORT = 6541;
const VALUE = 1024 * 1024;
/** How long the hostile client writes. */
const HOSTILE_MS = 8_000;
/** What the runtime may grow by while it does: far less than the ~4 GB of replies it is owed meanwhile. */
const GROWTH_BOUND = 150 * 1024 * 1024;

let redis: RedisServer;
let runtime: RuntimeProcess;

beforeAll(async () => {
  redis = await startRedisServer({ port: REDIS_PORT });
  runtime = await startRuntimeProcess(redis, ['--port', String(RUNTIME_PORT)]);
  expect(runtime.port).toBe(RUNTIME_PORT);
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
    const setter = await RespSocket.open(runtime.port);
    setter.send(['SET', 'unread:big', 'x'.repeat(VALUE)]);
    expect(await setter.readBytes(1)).toBe('+OK\r\n');
    setter.close();
    const before = rssOf(runtime.pid);

    const hostile = await connected(runtime.port);
    hostile.pause(); // never reads: what it is owed stays with the runtime, or in the server
    hostile.on('error', () => undefined);
    let peak = before;
    const sample = () => {
      peak = Math.max(peak, rssOf(runtime.pid));
      return peak - before > 2 * GROWTH_BOUND;
    };
    await writeGetsFor(hostile, HOSTILE_MS, sample);
    sample();
    const grown = peak - before;
    expect(grown, `the runtime grew by ${Math.round(grown / 1024 / 1024)} MB`).toBeLessThan(GROWTH_BOUND);

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
