/**
 * Worker thread of SyncRedis: owns one RESP3 connection to the backing redis-server. It answers each batch by
 * posting the raw reply bytes on the reply port and then waking the main thread, which is blocked in
 * Atomics.wait (the main thread cannot run its own event loop while library code waits for Redis).
 */
import { createConnection, type Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { RespDecoder } from '../resp/decoder.js';
import { encodeCommand } from '../resp/encoder.js';
import { FLAG_INDEX, type SyncRedisRequest, type SyncRedisResponse, type SyncRedisWorkerData } from './protocol.js';

const data = workerData as SyncRedisWorkerData;
const flag = new Int32Array(data.flag);

/** Replies still expected for the batch in flight, and the bytes collected so far. */
let expected = 0;
let collected: Buffer[] = [];
let broken: string | null = null;

const decoder = new RespDecoder((_value, raw) => {
  collected.push(Buffer.from(raw));
  expected -= 1;
  if (expected === 0) respond({ ok: true, bytes: Buffer.concat(collected) });
});

function respond(response: SyncRedisResponse): void {
  collected = [];
  data.replyPort.postMessage(response);
  Atomics.store(flag, FLAG_INDEX, 1);
  Atomics.notify(flag, FLAG_INDEX);
}

const socket: Socket = createConnection({ host: data.host, port: data.port });
socket.setNoDelay(true);
socket.on('data', (chunk) => decoder.push(chunk));
socket.on('error', (error) => fail(`connection to redis-server failed: ${error.message}`));
socket.on('close', () => fail('connection to redis-server closed'));

function fail(message: string): void {
  if (broken !== null) return;
  broken = message;
  if (expected > 0) {
    expected = 0;
    respond({ ok: false, message });
  }
  parentPort?.postMessage({ type: 'closed', message });
}

socket.on('connect', () => {
  const hello = data.auth ? ['HELLO', '3', 'AUTH', ...data.auth] : ['HELLO', '3'];
  send({ commands: [hello.map((a) => Buffer.from(a))] });
});

function send(request: SyncRedisRequest): void {
  if (broken !== null) {
    respond({ ok: false, message: broken });
    return;
  }
  expected = request.commands.length;
  socket.write(Buffer.concat(request.commands.map((c) => encodeCommand(c.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))))));
}

data.replyPort.on('message', (request: SyncRedisRequest) => send(request));
