/**
 * A Redis client whose `call` blocks the calling thread until the reply is there: library code in the sandbox
 * calls Redis synchronously, as RedisGears' `client.call` does, while the runtime holds its global lock. A worker
 * thread owns the RESP3 connection; the main thread posts a batch, waits on a shared flag with Atomics.wait and
 * takes the reply with receiveMessageOnPort (no size limit, no event-loop turn).
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { SYNC_REDIS_THREAD_SOURCE } from '../../generated/sync-redis-thread-source.js';
import { RespDecoder } from '../resp/decoder.js';
import { encodeCommand } from '../resp/encoder.js';
import type { RespValue } from '../resp/types.js';
import { RedisCommandError } from '../../shared/errors.js';
import { FLAG_INDEX, type SyncRedisRequest, type SyncRedisResponse, type SyncRedisWorkerData } from './protocol.js';

/** Atomics.waitAsync exists in Node 20; the ES2022 lib does not declare it. */
interface AtomicsWithWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number, timeout: number): { value: Promise<'ok' | 'timed-out'> | 'not-equal' | 'timed-out' };
}

export type CommandArgument = string | Buffer | Uint8Array;

/** How long a blocked call may wait before the connection is declared dead (Redis itself never takes that long). */
const CALL_TIMEOUT_MS = 60_000;

export class SyncRedis {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #flag: Int32Array;
  /** Selected database, or -1 while unknown (a SELECT was sent but its reply never taken). */
  #db = 0;
  /** Sequence number of the last request; replies to older ones are stale and dropped. */
  #seq = 0;
  #closed = false;

  private constructor(worker: Worker, port: MessagePort, flag: Int32Array) {
    this.#worker = worker;
    this.#port = port;
    this.#flag = flag;
  }

  /** Connects (HELLO 3, with AUTH when the URL carries credentials) and waits for the handshake. */
  static async create(redisUrl: string): Promise<SyncRedis> {
    const url = new URL(redisUrl);
    const shared = new SharedArrayBuffer(4);
    const flag = new Int32Array(shared);
    const channel = new MessageChannel();
    const auth = url.password ? [decodeURIComponent(url.username || 'default'), decodeURIComponent(url.password)] : null;
    const workerData: SyncRedisWorkerData = { host: url.hostname || '127.0.0.1', port: Number(url.port || 6379), flag: shared, replyPort: channel.port2, auth };
    const worker = new Worker(SYNC_REDIS_THREAD_SOURCE, { eval: true, workerData, transferList: [channel.port2] });
    worker.unref();
    const handshake = await (Atomics as unknown as AtomicsWithWaitAsync).waitAsync(flag, FLAG_INDEX, 0, 10_000).value;
    if (handshake === 'timed-out') {
      await worker.terminate();
      throw new RedisCommandError(`no HELLO reply from ${url.host} within 10 s`, { context: { command: 'HELLO' } });
    }
    const client = new SyncRedis(worker, channel.port1, flag);
    const reply = client.#take(0)[0];
    if (reply?.type === 'error') {
      await client.close();
      throw new RedisCommandError(`HELLO 3 refused: ${reply.value}`, { context: { command: 'HELLO' } });
    }
    const db = Number(url.pathname.slice(1) || 0);
    if (db !== 0) client.call(['SELECT', String(db)]);
    return client;
  }

  /** Runs one command in `db` and returns its RESP3 reply (errors are returned, not thrown). */
  call(args: readonly CommandArgument[], db = this.#db): RespValue {
    return this.batch([args], db)[0]!;
  }

  /**
   * Runs commands back to back in one round trip, in `db`, and returns one reply each. A SELECT is prepended
   * when the connection is on another database.
   */
  batch(commands: readonly (readonly CommandArgument[])[], db = this.#db): RespValue[] {
    if (this.#closed) throw new RedisCommandError('SyncRedis is closed');
    const select = db !== this.#db;
    const all = select ? [['SELECT', String(db)], ...commands] : commands;
    // If this wait is cut short (the lock timeout terminates the library code blocked here), the connection's
    // database is unknown until a later SELECT.
    if (select) this.#db = -1;
    const seq = ++this.#seq;
    const request: SyncRedisRequest = { seq, count: all.length, bytes: encodeBatch(all) };
    this.#port.postMessage(request);
    const replies = this.#take(seq);
    if (select) {
      const selected = replies.shift();
      if (selected?.type !== 'error') this.#db = db;
    }
    return replies;
  }

  /** Blocks until the reply to request `seq` is posted, dropping replies to requests nobody waits for any more. */
  #take(seq: number): RespValue[] {
    const deadline = Date.now() + CALL_TIMEOUT_MS;
    let response: SyncRedisResponse | undefined;
    while (response === undefined) {
      const seen = Atomics.load(this.#flag, FLAG_INDEX);
      for (let message = receiveMessageOnPort(this.#port); message; message = receiveMessageOnPort(this.#port)) {
        const candidate = message.message as SyncRedisResponse;
        if (candidate.seq === seq) {
          response = candidate;
          break;
        }
      }
      if (response !== undefined) break;
      const left = deadline - Date.now();
      if (left <= 0 || Atomics.wait(this.#flag, FLAG_INDEX, seen, left) === 'timed-out') {
        throw new RedisCommandError(`no reply from redis-server within ${CALL_TIMEOUT_MS} ms`);
      }
    }
    if (!response.ok) throw new RedisCommandError(response.message);
    const replies: RespValue[] = [];
    new RespDecoder((value) => replies.push(value)).push(Buffer.from(response.bytes.buffer, response.bytes.byteOffset, response.bytes.byteLength));
    return replies;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#port.close();
    await this.#worker.terminate();
  }
}

/**
 * The RESP bytes of a batch in a buffer of their own: a pooled Buffer would make postMessage copy the whole
 * pool slab it is a view of.
 */
function encodeBatch(commands: readonly (readonly CommandArgument[])[]): Uint8Array {
  const encoded = commands.map((command) => encodeCommand(command.map((a) => (typeof a === 'string' || Buffer.isBuffer(a) ? a : Buffer.from(a.buffer, a.byteOffset, a.byteLength)))));
  const total = encoded.reduce((sum, part) => sum + part.length, 0);
  const bytes = Buffer.allocUnsafeSlow(total);
  let offset = 0;
  for (const part of encoded) offset += part.copy(bytes, offset);
  return bytes;
}
