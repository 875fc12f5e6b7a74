/**
 * CLIENT PAUSE WRITE through the runtime: redis-server keeps running reads, read-only scripts and read-only
 * transactions; so must the runtime, though its ordering marker (a PUBLISH) is one of the commands the pause holds.
 * Found by Redis's own Tcl suite (unit/pause: "read/admin multi-execs" and "RO scripts are not blocked by pause
 * RO" hung until the pause ended).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { useRuntimeWithTestHost } from '../helpers/runtime.js';
import { RespSocket } from '../helpers/resp-socket.js';
import { RUNTIME_LEASE_KEY } from '../../src/shared/keys.js';

const env = useRuntimeWithTestHost({ flush: true });

async function runtimeCall(...args: string[]): Promise<string> {
  const socket = await RespSocket.open(env.runtime.port);
  socket.send(args);
  const reply = await socket.readBytes(1);
  socket.close();
  return reply;
}

afterEach(async () => {
  await runtimeCall('CLIENT', 'UNPAUSE');
});

describe('CLIENT PAUSE WRITE sent through the runtime', () => {
  it('leaves read-only transactions, scripts and functions running, each connection for more than one command', async () => {
    await runtimeCall('SET', 'foo', 'bar');
    expect(await runtimeCall('CLIENT', 'PAUSE', '100000', 'WRITE')).toBe('+OK\r\n');
    const socket = await RespSocket.open(env.runtime.port);
    socket.send(['MULTI'], ['PING'], ['GET', 'foo'], ['EXEC']);
    expect(await socket.readBytes(4, 3000)).toBe('+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+PONG\r\n$3\r\nbar\r\n');
    const readOnly = '#!lua flags=no-writes\nreturn redis.call("GET", KEYS[1])';
    socket.send(['EVAL', readOnly, '1', 'foo'], ['EVAL', readOnly, '1', 'trig:missing'], ['EVAL_RO', 'return 1', '0']);
    expect(await socket.readBytes(3, 3000)).toBe('$3\r\nbar\r\n$-1\r\n:1\r\n');
    socket.close();
  });

  it('queued in MULTI: the pause starts as EXEC ends, and the connection goes on with reads', async () => {
    const socket = await RespSocket.open(env.runtime.port);
    socket.send(['MULTI'], ['SET', 'foo1', 'bar'], ['CLIENT', 'PAUSE', '100000', 'WRITE'], ['SET', 'foo2', 'bar'], ['EXEC'], ['GET', 'foo2']);
    expect(await socket.readBytes(6, 3000)).toBe('+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n+OK\r\n+OK\r\n$3\r\nbar\r\n');
    const writer = await RespSocket.open(env.runtime.port);
    writer.send(['SET', 'foo3', 'bar']);
    await expect(writer.read(1, 300)).rejects.toThrow();
    socket.send(['GET', 'foo3']);
    expect(await socket.readBytes(1, 3000)).toBe('$-1\r\n');
    socket.close();
    writer.close();
  });

  it('still fires a trigger on what a read-only command did while paused, before its reply', async () => {
    expect(await runtimeCall('CLIENT', 'PAUSE', '100000', 'WRITE')).toBe('+OK\r\n');
    const before = env.host.keyspaceEvents.length;
    expect(await runtimeCall('EVAL', '#!lua flags=no-writes\nreturn redis.call("GET", KEYS[1])', '1', 'trig:absent')).toBe('$-1\r\n');
    expect(env.host.keyspaceEvents.slice(before).map((e) => `${e.event}:${e.key.toString()}`)).toEqual(['keymiss:trig:absent']);
  });

  it('a lease doubted as the pause starts does not hold a read that may fire: the runtime confirms its lease with a read, which the pause lets through', async () => {
    // The test host's flush before each test deleted the lease: the runtime takes it again at once.
    const server = await RespSocket.open(env.redis.port);
    let holder = '';
    for (let tries = 0; holder === '' && tries < 40; tries++) {
      if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      server.send(['GET', RUNTIME_LEASE_KEY]);
      const [reply] = await server.read(1);
      if (reply!.value.type === 'blob') holder = reply!.value.value.toString('latin1');
    }
    server.close();
    expect(holder).toMatch(/^pid \d+/);
    // Its own value set again (an event on the lease key: the runtime doubts it) and the pause, in one transaction,
    // so no refresh of the runtime's can come between them.
    const socket = await RespSocket.open(env.runtime.port);
    socket.send(['MULTI'], ['SET', RUNTIME_LEASE_KEY, holder, 'PX', '5000'], ['CLIENT', 'PAUSE', '100000', 'WRITE'], ['EXEC']);
    expect(await socket.readBytes(4, 3000)).toBe('+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n+OK\r\n');
    socket.send(['EVAL', '#!lua flags=no-writes\nreturn redis.call("GET", KEYS[1])', '1', 'trig:absent']);
    expect(await socket.readBytes(1, 2000)).toBe('$-1\r\n');
    socket.close();
  });

  it('holds a write until the pause lifts, then fires its trigger before its reply', async () => {
    expect(await runtimeCall('CLIENT', 'PAUSE', '100000', 'WRITE')).toBe('+OK\r\n');
    const before = env.host.keyspaceEvents.length;
    const writer = await RespSocket.open(env.runtime.port);
    writer.send(['SET', 'trig:paused', 'v']);
    await expect(writer.read(1, 700)).rejects.toThrow();
    expect(await runtimeCall('CLIENT', 'UNPAUSE')).toBe('+OK\r\n');
    expect(await writer.readBytes(1, 3000)).toBe('+OK\r\n');
    expect(env.host.keyspaceEvents.slice(before).map((e) => `${e.event}:${e.key.toString()}`)).toEqual(['set:trig:paused']);
    writer.close();
  });
});
