/**
 * A subscriber that stops reading: redis-server keeps what it owes it in the connection's output buffer, where
 * client-output-buffer-limit, CLIENT LIST (omem), INFO and client eviction see it. Through the runtime the
 * server's side is the runtime's connection; before 2026-12-03 the runtime read it all and held it in its own
 * memory, without bound (a test's 150 MB of messages grew it by 170 MB, the server showing omem=0), so that
 * protection was gone and one idle subscriber could take the runtime, and every capture with it, down.
 * Found running Redis's own Tcl suite (unit/obuf-limits, tag lifted).
 */
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useRuntimeWithTestHost } from '../helpers/runtime.js';
import { RespSocket } from '../helpers/resp-socket.js';
import { until } from '../helpers/until.js';

const env = useRuntimeWithTestHost({ flush: true });

const MESSAGES = 40;
const PAYLOAD = 1024 * 1024;

const call = RespSocket.call;

/** CLIENT LIST's omem of the server's connection named `name`, or null when there is none. */
async function outputMemory(name: string): Promise<number | null> {
  const list = await call(env.redis.port, 'CLIENT', 'LIST');
  const line = list.split('\n').find((l) => l.includes(` name=${name} `));
  return line === undefined ? null : Number(/ omem=(\d+)/.exec(line)![1]);
}

/** A raw subscriber: its bytes are collected only while it reads. */
function subscriber(port: number): Promise<{ socket: Socket; received: () => Buffer }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ port, host: '127.0.0.1' }, () => resolve({ socket, received: () => Buffer.concat(chunks) }));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.once('error', reject);
  });
}

describe('a subscriber that stops reading, through the runtime', () => {
  it("leaves its messages in redis-server's output buffer, as a direct subscriber does, and gets them all in order once it reads", { timeout: 60_000 }, async () => {
    const { socket, received } = await subscriber(env.runtime.port);
    socket.write('*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$7\r\nslowsub\r\n*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n');
    const confirmed = '+OK\r\n*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n';
    await until(async () => received().length, (n) => n >= confirmed.length, 5_000);
    socket.pause();

    const publisher = await RespSocket.open(env.redis.port);
    for (let i = 0; i < MESSAGES; i++) publisher.send(['PUBLISH', 'ch', String(i).padStart(4, '0') + 'x'.repeat(PAYLOAD - 4)]);
    await publisher.read(MESSAGES, 30_000);
    publisher.close();

    // The kernel's buffers on the way (a few MB on loopback) take some; the server keeps the rest, also once the
    // runtime has had all the time it needs to read it.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await outputMemory('slowsub')).toBeGreaterThan(20 * PAYLOAD);

    // Captured writes of other clients do not wait for it.
    const before = env.host.keyspaceEvents.length;
    expect(await call(env.runtime.port, 'HSET', 'trig:1', 'f', 'v')).toBe(':1\r\n');
    expect(env.host.keyspaceEvents.length).toBeGreaterThan(before);

    socket.resume();
    const header = (i: number) => `*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$${PAYLOAD}\r\n${String(i).padStart(4, '0')}`;
    const total = confirmed.length + MESSAGES * (header(0).length + PAYLOAD - 4 + 2);
    await until(async () => received().length, (n) => n >= total, 30_000);
    const text = received().toString('latin1');
    expect(text.length).toBe(total);
    let at = confirmed.length;
    for (let i = 0; i < MESSAGES; i++) {
      expect(text.slice(at, at + header(i).length)).toBe(header(i));
      at += header(i).length + PAYLOAD - 4 + 2;
    }
    // A command after it all is still answered in its place.
    socket.write('*1\r\n$4\r\nPING\r\n');
    await until(async () => received().length, (n) => n > total, 5_000);
    expect(received().subarray(total).toString()).toBe('*2\r\n$4\r\npong\r\n$0\r\n\r\n');
    socket.destroy();
  });

  // Since 2026-12-03 the command waits unread while the subscriber is owed more than 256 KB (its input is not
  // read, client-connection.ts); before, it was read at once and its reply held a shared lock until it came.
  it('answers a command it sends meanwhile (RESP3) once it reads again, holding up no one until then: captured writes of others go on', { timeout: 60_000 }, async () => {
    const { socket, received } = await subscriber(env.runtime.port);
    socket.write('*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$8\r\nslowsub3\r\n*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n');
    await until(async () => received().toString('latin1'), (text) => text.includes('>3\r\n$9\r\nsubscribe'), 5_000);
    socket.pause();
    const publisher = await RespSocket.open(env.redis.port);
    for (let i = 0; i < MESSAGES; i++) publisher.send(['PUBLISH', 'ch', 'x'.repeat(PAYLOAD)]);
    await publisher.read(MESSAGES, 30_000);
    publisher.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await outputMemory('slowsub3')).toBeGreaterThan(20 * PAYLOAD);

    socket.write('*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    const before = env.host.keyspaceEvents.length;
    expect(await call(env.runtime.port, 'HSET', 'trig:2', 'f', 'v')).toBe(':1\r\n');
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(env.host.keyspaceEvents.length).toBeGreaterThan(before);
    socket.resume();
    await until(async () => received().subarray(-3).toString('latin1'), (tail) => tail === '_\r\n', 30_000);
    socket.destroy();
  });
});
