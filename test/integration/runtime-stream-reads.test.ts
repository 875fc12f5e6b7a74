/**
 * XREAD / XREADGROUP … BLOCK on streams no trigger watches — an application waiting for its acknowledgement as
 * the seed shows, the worker waiting for batches — pass through the runtime with the server's own replies,
 * served at once or after blocking, without the runtime asking the server whether they blocked (CLIENT LIST polls
 * under the execution lock, which queue the captured writes of every client behind them).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { RespSocket } from '../helpers/resp-socket.js';
import { startRuntime, type StartedRuntime } from '../helpers/runtime.js';
import { RuntimeTestHost } from '../helpers/runtime-test-host.js';

let redis: RedisServer;
let runtime: StartedRuntime;

beforeAll(async () => {
  redis = await startRedisServer();
  const host = new RuntimeTestHost({ redisPort: redis.port, keyspacePrefixes: ['trig:'] });
  runtime = await startRuntime(redis, { createHost: async () => host, });
});
afterAll(async () => {
  await runtime?.close();
  await redis?.stop();
});
beforeEach(async () => {
  await direct(['FLUSHALL']);
});

/** One command straight to the redis-server; its reply bytes. */
async function direct(command: string[]): Promise<string> {
  const socket = await RespSocket.open(redis.port);
  socket.send(command);
  const reply = await socket.readBytes(1);
  socket.close();
  return reply;
}

/** CLIENT LIST commands the server ran so far (the runtime asks it whether a client's command blocked). */
async function clientLists(): Promise<number> {
  return Number(/cmdstat_client\|list:calls=(\d+)/.exec(await direct(['INFO', 'commandstats']))?.[1] ?? 0);
}

/** The replies of `commands` sent one after another on one connection to `port`, after `hello` when given. */
async function replies(port: number, commands: string[][], hello?: string[]): Promise<string[]> {
  const socket = await RespSocket.open(port);
  if (hello) {
    socket.send(hello);
    await socket.read(1);
  }
  const out: string[] = [];
  for (const command of commands) {
    socket.send(command);
    out.push(await socket.readBytes(1));
  }
  socket.close();
  return out;
}

describe('blocking stream reads on streams no trigger watches', () => {
  it('a read that finds entries is answered at once with the server’s bytes (RESP2 and RESP3), without asking whether it blocked', async () => {
    const reads = [
      ['XREAD', 'BLOCK', '1000', 'STREAMS', 'acks', '0'],
      ['XREAD', 'COUNT', '1', 'BLOCK', '0', 'STREAMS', 'acks', 'other', '0-0', '0-0'],
      ['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '5', 'BLOCK', '1000', 'STREAMS', 'batches', '>'],
      ['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '0', 'STREAMS', 'batches', '0'],
    ];
    for (const hello of [undefined, ['HELLO', '3']]) {
      const got: string[][] = [];
      for (const port of [redis.port, runtime.port]) {
        await direct(['FLUSHALL']);
        await direct(['XADD', 'acks', '1-1', 'status', 'done']);
        await direct(['XADD', 'batches', '1-1', 'from', '1-0']);
        await direct(['XGROUP', 'CREATE', 'batches', 'g', '0']);
        const before = await clientLists();
        got.push(await replies(port, reads, hello));
        expect(await clientLists()).toBe(before);
      }
      expect(got[1]).toEqual(got[0]);
      expect(got[0]![2]).toContain('from'); // the group read its entry, then found it pending
      expect(got[0]![3]).toContain('from');
    }
    // Read once, not twice: the entry is pending for the consumer once.
    expect(await direct(['XPENDING', 'batches', 'g'])).toMatch(/^\*4\r\n:1\r\n/);
  });

  it('a read that finds nothing blocks without holding up captured writes, and is served by another client’s XADD, without asking whether it blocked', async () => {
    const before = await clientLists();
    const waiting = await RespSocket.open(runtime.port);
    waiting.send(['XREAD', 'BLOCK', '5000', 'STREAMS', '{trig:1}ack', '$']);
    const grouped = await RespSocket.open(runtime.port);
    await direct(['XGROUP', 'CREATE', 'batches', 'g', '$', 'MKSTREAM']);
    grouped.send(['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '5000', 'STREAMS', 'batches', '>']);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await direct(['INFO', 'clients'])).toMatch(/blocked_clients:2\r\n/);
    const other = await RespSocket.open(runtime.port);
    other.send(['HSET', 'trig:1', 'f', 'v'], ['XADD', '{trig:1}ack', '1-1', 'status', 'done'], ['XADD', 'batches', '2-1', 'from', '1-0']);
    expect(await other.readBytes(3)).toBe(':1\r\n$3\r\n1-1\r\n$3\r\n2-1\r\n');
    expect(await waiting.readBytes(1)).toBe('*1\r\n*2\r\n$11\r\n{trig:1}ack\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$6\r\nstatus\r\n$4\r\ndone\r\n');
    expect(await grouped.readBytes(1)).toContain('from');
    expect(await direct(['XPENDING', 'batches', 'g'])).toMatch(/^\*4\r\n:1\r\n/);
    expect(await clientLists()).toBe(before);
    for (const socket of [waiting, grouped, other]) socket.close();
  });

  it('a command sent right after a blocking read finds it blocked, as on the server: no command comes between its two reads', async () => {
    await direct(['XADD', 'mystream', '666', 'f', 'v']);
    await direct(['XGROUP', 'CREATE', 'mystream', 'mygroup', '$']);
    const reader = await RespSocket.open(runtime.port);
    const other = await RespSocket.open(runtime.port);
    reader.send(['XREADGROUP', 'GROUP', 'mygroup', 'Alice', 'BLOCK', '0', 'STREAMS', 'mystream', '>']);
    other.send(['DEL', 'mystream']);
    expect(await other.readBytes(1)).toBe(':1\r\n');
    // Had the DEL come between the read without BLOCK and the blocking one, the reader would get NOGROUP.
    expect(await reader.readBytes(1)).toMatch(/^-UNBLOCKED .*no longer exists/);
    reader.close();
    other.close();
  });

  it('a read that finds nothing until its timeout answers nil, as the server does (RESP2 and RESP3)', async () => {
    for (const hello of [undefined, ['HELLO', '3']]) {
      const startedAt = performance.now();
      const [nil] = await replies(runtime.port, [['XREAD', 'BLOCK', '200', 'STREAMS', 'empty', '$']], hello);
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(190);
      expect(nil).toBe(hello ? '_\r\n' : '*-1\r\n');
    }
  });

  it('a timeout the server refuses gets the server’s error', async () => {
    const bad = [
      ['XREAD', 'BLOCK', '-1', 'STREAMS', 's', '0'],
      ['XREAD', 'BLOCK', 'soon', 'STREAMS', 's', '0'],
      ['XREAD', 'BLOCK', '99999999999999999999', 'STREAMS', 's', '0'],
    ];
    await direct(['XADD', 's', '1-1', 'f', 'v']);
    expect(await replies(runtime.port, bad)).toEqual(await replies(redis.port, bad));
    expect((await replies(redis.port, bad)).every((reply) => reply.startsWith('-ERR'))).toBe(true);
  });
});
