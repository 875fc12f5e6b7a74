import { afterEach, describe, expect, it } from 'vitest';
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { writeToSocket } from './socket-writes.js';

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
