import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { RespDecoder } from '../resp/decoder.js';
import { textOf, type RespValue } from '../resp/types.js';
import { RedisConnection, type UnsolicitedSink } from './redis-connection.js';
import type { Logger } from '../../shared/log.js';
import { startRedisServer } from '../../../test/helpers/redis-server.js';

/** What the stand-in server answers, by command name: the frames it writes back. */
const ANSWERS: Record<string, string> = {
  HELLO: '*2\r\n$2\r\nid\r\n:7\r\n',
  // Confirmed, then at once a message on the channel: neither answers a command the connection waits for.
  SUBSCRIBE: '*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$2\r\nhi\r\n',
  PING: '*2\r\n$4\r\npong\r\n$0\r\n\r\n',
};

/** A stand-in redis-server answering from ANSWERS; `accepted` is its side of the connection. */
async function standIn(): Promise<{ server: Server; port: number; accepted: Promise<Socket> }> {
  const server = createServer();
  const accepted = new Promise<Socket>((resolve) => {
    server.once('connection', (socket) => {
      const decoder = new RespDecoder((request) => {
        const name = request.type === 'array' ? textOf(request.value[0]!) : null;
        socket.write(ANSWERS[name ?? ''] ?? '-ERR unknown command\r\n');
      });
      socket.on('data', (chunk) => decoder.push(chunk));
      resolve(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, accepted };
}

/** A sink that keeps what it is handed. */
function keepingSink(): UnsolicitedSink & { replies: RespValue[]; closes: Error[] } {
  const replies: RespValue[] = [];
  const closes: Error[] = [];
  return { replies, closes, reply: (value) => void replies.push(value), closed: (error) => void closes.push(error) };
}

const texts = (value: RespValue | undefined) => (value?.type === 'array' ? value.value.map((part) => textOf(part)) : value);

describe('RedisConnection with an unsolicited sink', () => {
  const servers: Server[] = [];
  const connections: RedisConnection[] = [];
  afterEach(async () => {
    for (const connection of connections.splice(0)) await connection.close();
    for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  });

  async function open(): Promise<{ connection: RedisConnection; sink: ReturnType<typeof keepingSink>; accepted: Promise<Socket> }> {
    const { server, port, accepted } = await standIn();
    servers.push(server);
    const sink = keepingSink();
    const connection = await RedisConnection.open({ host: '127.0.0.1', port, db: 0, where: `127.0.0.1:${port}` }, 'test', { unsolicited: sink });
    connections.push(connection);
    return { connection, sink, accepted };
  }

  it('hands the sink the confirmation and the message of a posted SUBSCRIBE, and a sent command its own reply only', async () => {
    const { connection, sink } = await open();
    connection.post(['SUBSCRIBE', 'c']);
    await expect.poll(() => sink.replies.length).toBe(2);
    expect(sink.replies.map(texts)).toEqual([['subscribe', 'c', null], ['message', 'c', 'hi']]);
    expect(texts(await connection.send(['PING']))).toEqual(['pong', '']);
    // Neither the handshake's reply nor PING's reached the sink.
    expect(sink.replies).toHaveLength(2);
  });

  it('tells the sink once when the connection fails (a reset: an error, then the close), and post() then throws', async () => {
    const { connection, sink, accepted } = await open();
    (await accepted).resetAndDestroy();
    await expect.poll(() => sink.closes.length).toBe(1);
    expect(sink.closes[0]!.message).toMatch(/ECONNRESET/);
    expect(() => connection.post(['SUBSCRIBE', 'c'])).toThrow(/ECONNRESET/);
    await connection.close();
    // The close that followed the error told it nothing more.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sink.closes).toHaveLength(1);
  });
});

describe('RedisConnection that reconnects', () => {
  it('opens again on the next command once redis-server closed it, tells the new id, and logs it', async () => {
    const server = await startRedisServer({ port: 7624 });
    const warned: unknown[] = [];
    const log = { warn: (fields: unknown) => void warned.push(fields) } as unknown as Logger;
    const address = { host: '127.0.0.1', port: server.port, db: 0, where: `127.0.0.1:${server.port}` };
    const connection = await RedisConnection.open(address, 'test', { reconnect: { log } });
    const reopened: (number | null)[] = [];
    connection.onReopened((id) => void reopened.push(id));
    try {
      const first = (await connection.call(['CLIENT', 'ID'])) as { value: bigint };
      const killer = await RedisConnection.open(address, 'killer');
      await killer.call(['CLIENT', 'KILL', 'ID', String(first.value)]);
      await killer.close();
      await expect.poll(() => connection.send(['PING']).then(() => 'answered', (error: Error) => error.message)).toBe('answered');
      const second = (await connection.call(['CLIENT', 'ID'])) as { value: bigint };
      expect(second.value).not.toBe(first.value);
      expect(reopened).toEqual([Number(second.value)]);
      expect(warned).toEqual([expect.objectContaining({ connection: 'test', err: 'connection to redis-server closed' })]);

      // The server gone: a command fails at once with why, naming the server, and the next one tries again.
      await server.stop();
      await expect(connection.call(['PING'])).rejects.toThrow(`the runtime's test connection to redis-server at 127.0.0.1:${server.port} was closed (connection to redis-server closed) and cannot be opened again: cannot connect to redis-server at 127.0.0.1:${server.port}`);
      await expect(connection.call(['PING'])).rejects.toThrow(/cannot be opened again: cannot connect/);
    } finally {
      await connection.close();
      await server.stop();
    }
  });

  it('does not open again once closed', async () => {
    const server = await startRedisServer({ port: 7625 });
    const log = { warn: () => undefined } as unknown as Logger;
    const connection = await RedisConnection.open({ host: '127.0.0.1', port: server.port, db: 0, where: 'here' }, 'test', { reconnect: { log } });
    try {
      await connection.close();
      await expect(connection.call(['PING'])).rejects.toThrow('connection to redis-server closed');
      const lister = await RedisConnection.open({ host: '127.0.0.1', port: server.port, db: 0, where: 'here' }, 'lister');
      expect(textOf(await lister.call(['CLIENT', 'LIST']))).not.toContain('writebehind-runtime-test');
      await lister.close();
    } finally {
      await server.stop();
    }
  });
});
