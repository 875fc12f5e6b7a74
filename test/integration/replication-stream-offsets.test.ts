/**
 * The replication pipe counts offsets as redis-server 7.0 does: after a full resync (disk-based `$<len>` RDB or
 * diskless `$EOF:` RDB) and after a partial one (`+CONTINUE`), the offset of the last byte read equals the
 * primary's master_repl_offset once the stream has settled.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { ReplicationStream } from '../../src/runtime/replication/replication-stream.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { until } from '../helpers/until.js';

let server: RedisServer;
let admin: ReturnType<typeof createClient>;
const sockets: Socket[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  admin = createClient({ url: server.url });
  await admin.connect();
  await admin.configSet('repl-diskless-sync-delay', '0');
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await admin?.close();
  await server?.stop();
});

const command = (...words: string[]) => `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')}`;

/** A fake replica: sends REPLCONF capa eof, then PSYNC, ACKs what it read, and feeds everything after the REPLCONF's +OK to the counter. */
async function replicate(psync: string[]): Promise<{ stream: ReplicationStream; socket: Socket; replid: () => string }> {
  const socket = connect(server.port, '127.0.0.1');
  sockets.push(socket);
  const stream = new ReplicationStream(psync);
  let head = '';
  let okSeen = false;
  socket.on('data', (chunk: Buffer) => {
    let rest = chunk;
    if (!okSeen) {
      const end = chunk.indexOf('\r\n');
      okSeen = true;
      rest = chunk.subarray(end + 2);
    }
    if (head.length < 200) head += rest.toString('latin1');
    stream.feed(rest);
  });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(command('REPLCONF', 'capa', 'eof', 'capa', 'psync2'));
  await until(async () => okSeen, (seen) => seen);
  socket.write(command(...psync));
  // A diskless replica is put online only at its first ACK, as a real replica sends each second.
  const acks = setInterval(() => {
    if (stream.offset !== null && !socket.destroyed) socket.write(command('REPLCONF', 'ACK', String(stream.offset)));
  }, 100);
  socket.once('close', () => clearInterval(acks));
  return { stream, socket, replid: () => /^\+FULLRESYNC (\S+)/m.exec(head)?.[1] ?? '' };
}

async function primaryOffset(): Promise<number> {
  return Number(/^master_repl_offset:(\d+)/m.exec(await admin.info('replication'))![1]);
}

async function writeSome(): Promise<void> {
  await admin.set('small', 'v');
  await admin.hSet('h', { a: '1', b: 'x'.repeat(100_000) });
  await admin.select(3);
  await admin.incr('n');
  await admin.select(0);
}

async function settles(stream: ReplicationStream): Promise<void> {
  await writeSome();
  const expected = await primaryOffset();
  expect(await until(async () => stream.offset, (offset) => offset === expected)).toBe(expected);
}

describe('replication offsets through the pipe', () => {
  for (const diskless of ['yes', 'no']) {
    it(`counts from +FULLRESYNC (repl-diskless-sync ${diskless}) and from +CONTINUE`, async () => {
      await admin.configSet('repl-diskless-sync', diskless);
      await admin.set('before', 'x'.repeat(50_000));
      const full = await replicate(['PSYNC', '?', '-1']);
      await settles(full.stream);
      const offset = full.stream.offset!;
      full.socket.destroy();

      const partial = await replicate(['PSYNC', full.replid(), String(offset + 1)]);
      await until(async () => partial.stream.counted, (counted) => counted);
      await settles(partial.stream);
      partial.socket.destroy();
    }, 30_000);
  }
});
