import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { writeFully, writeToSocket } from './socket-writes.js';
import { readWithin, READ_CHUNK } from './socket-reads.js';
import { encodeCommand } from '../resp/encoder.js';
import { startRedisServer, type RedisServer } from '../../../test/helpers/redis-server.js';
import { ownedConnection } from '../../../test/helpers/owned-connection.js';

/** A connected pair: `socket` (the side written) and `peer`, paused until the test reads it. */
async function pair(): Promise<{ socket: Socket; peer: Socket; server: Server; writes: () => number }> {
  const server = createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const socket = createConnection({ host: '127.0.0.1', port: (server.address() as { port: number }).port });
  await new Promise((resolve) => socket.once('connect', resolve));
  const peer = await accepted;
  let streamWrites = 0;
  const write = socket.write.bind(socket) as (bytes: Buffer) => boolean;
  socket.write = ((bytes: Buffer) => {
    streamWrites += 1;
    return write(bytes);
  }) as typeof socket.write;
  return { socket, peer, server, writes: () => streamWrites };
}

function receive(peer: Socket, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  return new Promise((resolve) => {
    peer.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      got += chunk.length;
      if (got >= length) resolve(Buffer.concat(chunks));
    });
    peer.resume();
  });
}

describe('writeToSocket', () => {
  const open: { socket: Socket; server: Server }[] = [];
  afterEach(() => {
    for (const { socket, server } of open.splice(0)) {
      socket.destroy();
      server.close();
    }
  });

  it('writes straight to the descriptor when the stream holds nothing', async () => {
    const { socket, peer, server, writes } = await pair();
    open.push({ socket, server });
    writeToSocket(socket, Buffer.from('+OK\r\n'));
    expect(writes()).toBe(0);
    expect((await receive(peer, 5)).toString()).toBe('+OK\r\n');
  });

  it('writes behind the bytes the stream holds, though the descriptor would take them', async () => {
    const { socket, peer, server } = await pair();
    open.push({ socket, server });
    socket.cork();
    socket.write(Buffer.from('first '));
    writeToSocket(socket, Buffer.from('second'));
    socket.uncork();
    expect((await receive(peer, 12)).toString()).toBe('first second');
  });

  it('keeps the order when the descriptor takes only part, and while the stream holds the rest', async () => {
    const { socket, peer, server, writes } = await pair();
    open.push({ socket, server });
    // More than the kernel's buffers hold while the peer reads nothing: the descriptor takes part of it.
    const big = Buffer.alloc(32 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i, i);
    writeToSocket(socket, big);
    expect(writes()).toBe(1);
    expect(socket.writableLength).toBeGreaterThan(0);
    writeToSocket(socket, Buffer.from('tail'));
    expect(writes()).toBe(2);
    const received = await receive(peer, big.length + 4);
    expect(received.length).toBe(big.length + 4);
    expect(Buffer.compare(received.subarray(0, big.length), big)).toBe(0);
    expect(received.subarray(big.length).toString()).toBe('tail');
  });
});

describe('writeFully', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  // The reader must be another process: a synchronous write that waits for room blocks this one's event loop.
  // 16 MiB is several times a loopback socket's largest send buffer (tcp_wmem's maximum, 4 MiB by default): no
  // single write takes it all.
  it('writes every byte of a command larger than the send buffer, waiting for room', async () => {
    const { socket, fd } = await ownedConnection(server.port);
    const value = Buffer.alloc(16 * 1024 * 1024, 'v');
    writeFully(fd, Buffer.concat([encodeCommand(['SET', 'big', value]), encodeCommand(['STRLEN', 'big'])]));
    const into = Buffer.alloc(READ_CHUNK);
    let replies = '';
    while (!replies.endsWith(`:${value.length}\r\n`)) {
      const read = readWithin(fd, into, performance.now() + 5000);
      expect(read).toBeGreaterThan(0);
      replies += into.subarray(0, read).toString();
    }
    expect(replies).toBe(`+OK\r\n:${value.length}\r\n`);
    socket.destroy();
  });

  it('throws a failure that is not a full send buffer', () => {
    expect(() => writeFully(2 ** 30, Buffer.from('x'))).toThrow(/EBADF/);
  });
});
