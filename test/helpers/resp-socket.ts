/**
 * A raw RESP connection for tests where exact bytes matter: send bytes, read back exactly N top-level values
 * and the bytes they occupied.
 */
import { connect, type Socket } from 'node:net';
import { RespDecoder } from '../../src/runtime/resp/decoder.js';
import { encodeCommand } from '../../src/runtime/resp/encoder.js';
import type { RespValue } from '../../src/runtime/resp/types.js';

export class RespSocket {
  readonly #socket: Socket;
  readonly #values: { value: RespValue; raw: Buffer }[] = [];
  #waiter: (() => void) | undefined;
  #closed = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    const decoder = new RespDecoder((value, raw) => {
      this.#values.push({ value, raw: Buffer.from(raw) });
      this.#waiter?.();
    });
    socket.on('data', (chunk) => decoder.push(chunk));
    socket.on('close', () => {
      this.#closed = true;
      this.#waiter?.();
    });
  }

  static open(port: number): Promise<RespSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.once('error', reject);
      socket.once('connect', () => resolve(new RespSocket(socket)));
    });
  }

  /** Sends one command on a connection of its own and returns its reply's bytes (RESP as the server wrote it). */
  static async call(port: number, ...args: string[]): Promise<string> {
    const socket = await RespSocket.open(port);
    try {
      socket.send(args);
      return await socket.readBytes(1, 20_000);
    } finally {
      socket.close();
    }
  }

  write(bytes: Buffer | string): void {
    this.#socket.write(bytes);
  }

  /** Sends commands as RESP arrays. */
  send(...commands: (string | Buffer)[][]): void {
    this.#socket.write(Buffer.concat(commands.map((c) => encodeCommand(c))));
  }

  /** The next `count` values (waits up to `timeoutMs`). */
  async read(count: number, timeoutMs = 5000): Promise<{ value: RespValue; raw: Buffer }[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.#values.length < count) {
      if (this.#closed) throw new Error(`connection closed after ${this.#values.length} of ${count} values`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out with ${this.#values.length} of ${count} values`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.#values.splice(0, count);
  }

  /** The raw bytes of the next `count` values, concatenated. */
  async readBytes(count: number, timeoutMs?: number): Promise<string> {
    return Buffer.concat((await this.read(count, timeoutMs)).map((v) => v.raw)).toString('latin1');
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#socket.destroy();
  }
}
