/**
 * What froze or killed the runtime for every client when Redis's own Tcl suite ran through it: a client that
 * leaves mid-command, a runaway script, CLIENT PAUSE, CLIENT KILL with filters, a script raising more events
 * than the server's pub/sub output buffer limit. After each, the runtime still serves and still fires triggers.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startRuntime, type StartedRuntime } from '../helpers/runtime.js';
import { RespSocket } from '../helpers/resp-socket.js';
import { RuntimeTestHost } from '../helpers/runtime-test-host.js';
import { until } from '../helpers/until.js';

let redis: RedisServer;
let runtime: StartedRuntime;
let host: RuntimeTestHost;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  // A small pub/sub output buffer limit, as a busy production server may have: the runtime must not be cut off.
  redis = await startRedisServer({ extraArgs: ['--client-output-buffer-limit', 'pubsub 256kb 128kb 10'] });
  host = new RuntimeTestHost({ redisPort: redis.port, keyspacePrefixes: ['trig:'] });
  runtime = await startRuntime(redis, { createHost: async () => host });
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await runtime?.close();
  await redis?.stop();
});

beforeEach(async () => {
  unhandled.length = 0;
  const direct = await RespSocket.open(redis.port);
  direct.send(['FLUSHALL'], ['CONFIG', 'SET', 'busy-reply-threshold', '100']);
  await direct.read(2);
  direct.close();
});

afterEach(() => {
  expect(unhandled).toEqual([]);
});

async function command(...args: string[]) {
  const socket = await RespSocket.open(runtime.port);
  socket.send(args);
  const [reply] = await socket.read(1, 10_000);
  socket.close();
  return reply!.value;
}

/** The runtime serves and a trigger still fires (its subscription and connections are intact). */
async function expectRuntimeServing(): Promise<void> {
  const before = host.keyspaceEvents.length;
  expect(await command('SET', `trig:${Math.random()}`, 'v')).toEqual({ type: 'simple', value: 'OK' });
  expect(host.keyspaceEvents.length).toBe(before + 1);
}

describe('a client that leaves with its command in flight', () => {
  for (const [title, args] of [
    ['EVAL', ['EVAL', "local t = redis.call('TIME') while true do local n = redis.call('TIME') if (n[1]-t[1])*1000000+(n[2]-t[2]) > 300000 then return 1 end end", '0']],
    ['DEBUG SLEEP inside EXEC', ['DEBUG', 'SLEEP', '0.3']],
    ['FLUSHALL', ['FLUSHALL']],
  ] as const) {
    it(`${title}: no unhandled rejection, the runtime keeps serving`, async () => {
      const socket = await RespSocket.open(runtime.port);
      if (title.includes('EXEC')) socket.send(['MULTI'], [...args], ['EXEC']);
      else socket.send([...args]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.close();
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(unhandled).toEqual([]);
      await expectRuntimeServing();
    });
  }
});

describe('commands that must reach a server busy with a runaway script or paused', () => {
  it('SCRIPT KILL reaches the server while a runaway EVAL holds the runtime; others get BUSY as from redis-server', async () => {
    const looping = await RespSocket.open(runtime.port);
    looping.send(['EVAL', 'while true do end', '0']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await command('PING')).toMatchObject({ type: 'error', value: expect.stringMatching(/^BUSY/) });
    expect(await command('SCRIPT', 'KILL')).toEqual({ type: 'simple', value: 'OK' });
    expect((await looping.read(1))[0]!.value).toMatchObject({ type: 'error', value: expect.stringMatching(/Script killed by user/) });
    looping.close();
    await expectRuntimeServing();
  });

  it('EXEC and a command that may fire a trigger, sent during a runaway script, get redis-server’s BUSY answers (Tcl: just EXEC and script timeout)', async () => {
    const transaction = await RespSocket.open(runtime.port);
    transaction.send(['MULTI'], ['INCR', 'trig:xx']);
    expect(await transaction.readBytes(2)).toBe('+OK\r\n+QUEUED\r\n');
    const looping = await RespSocket.open(runtime.port);
    looping.send(['EVAL', 'while true do end', '0']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    transaction.send(['EXEC']);
    expect((await transaction.read(1, 10_000))[0]!.value).toMatchObject({ type: 'error', value: expect.stringMatching(/^EXECABORT.*BUSY/) });
    expect(await command('SET', 'trig:other', '1')).toMatchObject({ type: 'error', value: expect.stringMatching(/^BUSY/) });
    expect(await command('SCRIPT', 'KILL')).toEqual({ type: 'simple', value: 'OK' });
    await looping.read(1);
    transaction.send(['PING', 'out of multi']);
    expect(await transaction.readBytes(1)).toBe('$12\r\nout of multi\r\n');
    expect(await command('GET', 'trig:xx')).toEqual({ type: 'null' });
    transaction.close();
    looping.close();
    await expectRuntimeServing();
  });

  it('FUNCTION KILL reaches the server while a runaway FCALL holds the runtime', async () => {
    expect(await command('FUNCTION', 'LOAD', 'REPLACE', "#!lua name=loop\nredis.register_function{function_name='loop', callback=function() while true do end end, flags={'no-writes'}}")).toEqual({ type: 'blob', value: Buffer.from('loop') });
    const looping = await RespSocket.open(runtime.port);
    looping.send(['FCALL', 'loop', '0']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await command('FUNCTION', 'KILL')).toEqual({ type: 'simple', value: 'OK' });
    expect((await looping.read(1))[0]!.value).toMatchObject({ type: 'error', value: expect.stringMatching(/killed by user/) });
    looping.close();
    await expectRuntimeServing();
  });

  it('CLIENT UNPAUSE reaches the server while a script waits on CLIENT PAUSE WRITE', async () => {
    expect(await command('CLIENT', 'PAUSE', '100000', 'WRITE')).toEqual({ type: 'simple', value: 'OK' });
    const paused = await RespSocket.open(runtime.port);
    paused.send(['EVAL', "return redis.call('SET', 'trig:p', '1')", '0']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await command('CLIENT', 'UNPAUSE')).toEqual({ type: 'simple', value: 'OK' });
    expect((await paused.read(1))[0]!.value).toEqual({ type: 'simple', value: 'OK' });
    paused.close();
    await expectRuntimeServing();
  });
});

describe('the runtime’s own connections', () => {
  it('CLIENT KILL filters do not kill them; other clients are killed as asked', async () => {
    const victim = await RespSocket.open(runtime.port);
    victim.send(['PING']);
    await victim.read(1);
    const killed = await command('CLIENT', 'KILL', 'SKIPME', 'YES');
    expect(killed).toMatchObject({ type: 'integer' });
    expect(await until(async () => victim.isClosed, (closed) => closed, 5000)).toBe(true);
    expect(await command('CLIENT', 'KILL', 'TYPE', 'pubsub')).toEqual({ type: 'integer', value: 0n });
    expect(await command('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'YES')).toMatchObject({ type: 'integer' });
    await expectRuntimeServing();
  });

  it('a script raising more events than the pub/sub output buffer limit does not cut the runtime off', async () => {
    const reply = await command('EVAL', "for i = 1, 20000 do redis.call('SET', 'many:' .. i, i) end return 1", '0');
    expect(reply).toEqual({ type: 'integer', value: 1n });
    await expectRuntimeServing();
  });
});
