/**
 * A minimal request/reply connection to the backing redis-server for the runtime's own use (configuration,
 * COMMAND, ordering markers, CLIENT LIST). Replies come back decoded, in order; a closed connection rejects
 * everything still waiting.
 */
import { connect, type Socket } from 'node:net';
import { RedisCommandError } from '../../shared/errors.js';
import { RespDecoder } from '../resp/decoder.js';
import { encodeCommand } from '../resp/encoder.js';
import type { RespValue } from '../resp/types.js';
import { helloCommand } from '../handshake.js';
import { socketOptions, type RedisAddress } from '../../shared/redis-address.js';

/** How long the runtime waits for redis-server to accept and answer its handshake. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

interface PendingReply {
  readonly resolve: (value: RespValue) => void;
  readonly reject: (error: Error) => void;
}

export class RedisConnection {
  readonly #socket: Socket;
  readonly #pending: PendingReply[] = [];
  #closedError: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    const decoder = new RespDecoder((value) => this.#pending.shift()?.resolve(value));
    socket.on('data', (chunk) => decoder.push(chunk));
    socket.on('error', (error) => this.#fail(error));
    socket.on('close', () => this.#fail(new RedisCommandError('connection to redis-server closed')));
  }

  /**
   * Opens a RESP2 connection with the runtime's handshake; `role` names it (`writebehind-runtime-<role>`). A
   * server that does not answer within `timeoutMs` (connect and handshake) or refuses the handshake leaves no
   * socket open.
   */
  static async open(address: RedisAddress, role: string, timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Promise<RedisConnection> {
    let timer: NodeJS.Timeout | undefined;
    let connection: RedisConnection | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void connection?.close();
        reject(new RedisCommandError(`redis-server at ${address.where} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    timedOut.catch(() => undefined);
    try {
      const socket = await Promise.race([openSocket(address), timedOut]);
      socket.setNoDelay(true);
      connection = new RedisConnection(socket);
      await Promise.race([connection.call(helloCommand(address, 2, role)), timedOut]);
      return connection;
    } catch (cause) {
      await connection?.close();
      throw cause;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a command; resolves with its reply, error replies included (they are values, not exceptions). */
  send(args: readonly (string | Buffer)[]): Promise<RespValue> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    return new Promise((resolve, reject) => {
      this.#pending.push({ resolve, reject });
      this.#socket.write(encodeCommand(args));
    });
  }

  /** Sends a command and turns an error reply into a RedisCommandError. */
  async call(args: readonly (string | Buffer)[]): Promise<RespValue> {
    const reply = await this.send(args);
    if (reply.type === 'error') {
      throw new RedisCommandError(reply.value, { context: { command: String(args[0]) } });
    }
    return reply;
  }

  close(): Promise<void> {
    if (this.#socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#socket.once('close', () => resolve());
      this.#socket.destroy();
    });
  }

  #fail(error: Error): void {
    this.#closedError ??= error;
    for (const pending of this.#pending.splice(0)) pending.reject(this.#closedError);
  }
}

/** Connects a TCP or Unix socket, rejecting (instead of emitting 'error') when the server cannot be reached. */
export function openSocket(address: RedisAddress): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketOptions(address));
    const onError = (cause: Error) => {
      reject(new RedisCommandError(`cannot connect to redis-server at ${address.where}: ${cause.message}`, { cause }));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
