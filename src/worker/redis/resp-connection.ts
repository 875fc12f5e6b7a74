/**
 * A plain RESP2 connection for the worker's hot path: commands go out as RESP arrays and each reply comes back
 * as the bytes of one complete frame, left for the caller to parse (capture-page.ts reads XRANGE replies
 * straight into records). node-redis decodes every reply into generic JavaScript values, which was most of
 * the cost of reading a capture record.
 *
 * It connects on first use and again after a lost connection (the next command reconnects; the commands in
 * flight fail with an error naming the redacted URL and the cause). The handshake (AUTH, SELECT) follows the
 * URL as node-redis does, under the same deadline.
 *
 * @internal
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { RespFramer } from '../../runtime/resp/decoder.js';
import { encodeCommand } from '../../runtime/resp/encoder.js';
import { RedisCommandError, RedisConnectionError, errorMessage } from '../../shared/errors.js';
import { REDIS_CONNECT_TIMEOUT_MS } from '../../shared/redis-connect.js';
import { redactUrl } from '../../shared/redact-url.js';

interface Waiting {
  readonly command: string;
  readonly resolve: (frame: Buffer) => void;
  readonly reject: (error: Error) => void;
}

const MINUS = 0x2d;

export class RespConnection {
  readonly #url: URL;
  readonly #redacted: string;
  #socket: Socket | undefined;
  #ready: Promise<Socket> | undefined;
  #waiting: Waiting[] = [];
  #closed = false;
  /** Called once no reply is due any more (close() waits for it). */
  #onDrained: (() => void) | undefined;

  constructor(url: string) {
    this.#url = new URL(url);
    this.#redacted = redactUrl(url);
  }

  /** Sends one command; resolves with its reply's frame, rejects with the server's error reply or a lost connection. */
  async send(args: readonly (string | Buffer)[]): Promise<Buffer> {
    const socket = await this.#connected();
    return this.#write(socket, args);
  }

  /** Ends the connection after the replies still due. */
  async close(): Promise<void> {
    this.#closed = true;
    const socket = this.#socket;
    if (socket === undefined) return;
    if (this.#waiting.length > 0) await new Promise<void>((drained) => (this.#onDrained = drained));
    socket.end();
  }

  /** Closes at once: the commands in flight fail. */
  destroy(): void {
    this.#closed = true;
    this.#socket?.destroy();
  }

  #write(socket: Socket, args: readonly (string | Buffer)[]): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      this.#waiting.push({ command: String(args[0]), resolve, reject });
      socket.write(encodeCommand(args));
    });
  }

  #connected(): Promise<Socket> {
    if (this.#closed) return Promise.reject(new RedisConnectionError(`the connection to Redis at ${this.#redacted} is closed`, { context: { url: this.#redacted } }));
    this.#ready ??= this.#open().catch((cause: unknown) => {
      this.#ready = undefined;
      throw new RedisConnectionError(`cannot connect to Redis at ${this.#redacted}: ${errorMessage(cause)}`, { cause, context: { url: this.#redacted } });
    });
    return this.#ready;
  }

  async #open(): Promise<Socket> {
    const url = this.#url;
    const host = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
    const port = Number(url.port || 6379);
    const socket = url.protocol === 'rediss:' ? connectTls({ host, port, servername: host }) : connectTcp({ host, port });
    socket.setNoDelay(true);
    this.#socket = socket;
    const framer = new RespFramer((frame) => {
      const waiting = this.#waiting.shift();
      if (waiting === undefined) return;
      if (frame[0] === MINUS) waiting.reject(new RedisCommandError(`${waiting.command} failed: ${frame.toString('utf8', 1, frame.length - 2)}`, { context: { command: waiting.command } }));
      else waiting.resolve(frame);
      if (this.#waiting.length === 0) this.#onDrained?.();
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        framer.push(chunk);
      } catch (error) {
        socket.destroy(error as Error);
      }
    });
    socket.on('error', () => undefined); // reported through 'close' to every command in flight
    socket.on('close', () => {
      if (this.#socket === socket) {
        this.#socket = undefined;
        this.#ready = undefined;
      }
      const lost = this.#waiting;
      this.#waiting = [];
      for (const w of lost) w.reject(new RedisCommandError(`${w.command} failed: the connection to Redis at ${this.#redacted} was lost`, { context: { command: w.command, url: this.#redacted } }));
      this.#onDrained?.();
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      const connected = new Promise<void>((resolve, reject) => {
        socket.once(url.protocol === 'rediss:' ? 'secureConnect' : 'connect', resolve);
        socket.once('error', reject);
      }).then(() => this.#handshake(socket));
      connected.catch(() => undefined); // after the deadline nobody awaits it
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no reply within ${REDIS_CONNECT_TIMEOUT_MS / 1000} s`)), REDIS_CONNECT_TIMEOUT_MS);
      });
      await Promise.race([connected, deadline]);
      return socket;
    } catch (error) {
      socket.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** AUTH and SELECT as the URL says (user:password@, /db), like node-redis. */
  async #handshake(socket: Socket): Promise<void> {
    const user = decodeURIComponent(this.#url.username);
    const password = decodeURIComponent(this.#url.password);
    if (password !== '') await this.#write(socket, user === '' ? ['AUTH', password] : ['AUTH', user, password]);
    const db = this.#url.pathname.replace(/^\//, '');
    if (db !== '' && db !== '0') await this.#write(socket, ['SELECT', db]);
  }
}
