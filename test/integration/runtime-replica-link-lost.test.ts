/**
 * A replica that replicates through the runtime, whose link to redis-server is dropped by the server (`CLIENT
 * KILL TYPE replica`, a replica output buffer limit, a timeout): the runtime ends the replica's connection, and
 * that connection is gone for good whatever the replica sent meanwhile (a replica sends `REPLCONF ACK` every
 * second), so that `runtime.close()` does not wait on it. A fake replica (a raw socket that sends PSYNC) lets
 * the test choose when it writes: after the runtime's FIN, as a replica waking from a pause does (the failover
 * test in worker-wait-replicas.test.ts hung in its teardown about every other run that way). And
 * `runtime.close()` does not wait either for an ordinary client that never closes its side after the runtime
 * ended its connection.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeCommand } from '../../src/runtime/resp/encoder.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startRuntime, type StartedRuntime } from '../helpers/runtime.js';
import { connectTestClient, type TestClient } from '../helpers/redis-client.js';
import { until } from '../helpers/until.js';

let server: RedisServer | undefined;
let runtime: StartedRuntime | undefined;
const clients: TestClient[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const client of clients.splice(0)) await client.close().catch(() => undefined);
  // A runtime.close() that never resolves is what the tests look for: teardown does not wait on it again.
  void runtime?.close();
  await server?.stop();
  runtime = undefined;
  server = undefined;
});

/** A replica's connection to the runtime, half-open allowed: it may still write after the runtime's FIN. */
function fakeReplica(port: number): Promise<{ socket: Socket; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    sockets.push(socket);
    const ended = new Promise<void>((done) => socket.once('end', () => done()));
    socket.on('data', () => undefined);
    socket.once('error', reject);
    socket.once('connect', () => resolve({ socket, ended }));
  });
}

/** TCP sockets open in this process (the runtime runs in it): a connection the runtime never closes stays counted. */
function openSockets(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'TCPSocketWrap').length;
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timed out'> {
  return Promise.race([promise, new Promise<'timed out'>((resolve) => setTimeout(() => resolve('timed out'), ms))]);
}

describe('a replica whose link through the runtime is dropped by the server', () => {
  for (const acksAfterTheEnd of [false, true]) {
    it(`loses its connection to the runtime, and runtime.close() resolves${acksAfterTheEnd ? ' (the replica acknowledged after the runtime ended the connection)' : ''}`, async () => {
      server = await startRedisServer();
      runtime = await startRuntime(server);
      const direct = await connectTestClient(server.url, clients);
      const socketsBefore = openSockets();
      const replica = await fakeReplica(runtime.port);
      replica.socket.write(encodeCommand(['PSYNC', '?', '-1']));
      // The runtime piped the PSYNC: redis-server counts a replica.
      await until(() => direct.sendCommand(['CLIENT', 'LIST', 'TYPE', 'replica']), (list) => String(list).length > 0, 5000);

      await direct.sendCommand(['CLIENT', 'KILL', 'TYPE', 'replica']);
      await replica.ended;
      if (acksAfterTheEnd) replica.socket.write(encodeCommand(['REPLCONF', 'ACK', '0']));
      replica.socket.end();
      // The replica's end, the runtime's end and the upstream connection are gone while the runtime runs on.
      expect(await until(async () => openSockets(), (n) => n === socketsBefore, 5000)).toBe(socketsBefore);

      expect(await within(runtime.close(), 5000)).toBeUndefined();
    }, 20_000);
  }
});

describe('a client whose upstream connection is dropped by the server', () => {
  it('does not keep runtime.close() waiting while it leaves its side of the connection open', async () => {
    server = await startRedisServer();
    runtime = await startRuntime(server);
    const direct = await connectTestClient(server.url, clients);
    const client = await fakeReplica(runtime.port);
    const replies: Buffer[] = [];
    client.socket.on('data', (chunk: Buffer) => replies.push(chunk));
    client.socket.write(encodeCommand(['CLIENT', 'ID']));
    await until(async () => Buffer.concat(replies).toString('latin1'), (text) => /^:\d+\r\n$/.test(text), 5000);
    const id = /^:(\d+)/.exec(Buffer.concat(replies).toString('latin1'))![1]!;

    await direct.sendCommand(['CLIENT', 'KILL', 'ID', id]);
    await client.ended;

    expect(await within(runtime.close(), 5000)).toBeUndefined();
  }, 20_000);
});
