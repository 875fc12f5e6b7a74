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

/** Batches sent and not yet answered, oldest first (the socket answers in order). */
interface InFlight {
  readonly seq: number;
  expected: number;
  readonly collected: Buffer[];
}
const inFlight: InFlight[] = [];
let broken: string | null = null;

const decoder = new RespDecoder((_value, raw) => {
  const head = inFlight[0];
  if (!head) return; // cannot happen: every reply answers a command we sent
  head.collected.push(Buffer.from(raw));
  head.expected -= 1;
  if (head.expected === 0) {
    inFlight.shift();
    respond({ seq: head.seq, ok: true, bytes: Buffer.concat(head.collected) });
  }
});

function respond(response: SyncRedisResponse): void {
  data.replyPort.postMessage(response);
  Atomics.add(flag, FLAG_INDEX, 1);
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
  for (const pending of inFlight.splice(0)) respond({ seq: pending.seq, ok: false, message });
  parentPort?.postMessage({ type: 'closed', message });
}

socket.on('connect', () => {
  const hello = data.auth ? ['HELLO', '3', 'AUTH', ...data.auth] : ['HELLO', '3'];
  const bytes = encodeCommand(hello);
  send({ seq: 0, count: 1, bytes });
});

function send(request: SyncRedisRequest): void {
  if (broken !== null) {
    respond({ seq: request.seq, ok: false, message: broken });
    return;
  }
  inFlight.push({ seq: request.seq, expected: request.count, collected: [] });
  socket.write(request.bytes);
}

data.replyPort.on('message', (request: SyncRedisRequest) => send(request));
