/**
 * A minimal request/reply connection to the backing redis-server for the runtime's own use (configuration,
 * COMMAND, ordering markers, CLIENT LIST, the notify-keyspace-events probe's subscription). Replies come back
 * decoded, in order; a closed connection rejects everything still waiting. A reply no command waits for (on a
 * subscribed connection: each confirmation and message) goes to the connection's unsolicited sink.
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

/** Where a connection hands the replies none of its commands waits for. */
export interface UnsolicitedSink {
  /** A reply no command waits for: a subscription's confirmation or message, or a posted command's refusal. */
  reply(value: RespValue): void;
  /** The connection failed or closed (close() included): nothing more comes. Called once. */
  closed(error: Error): void;
}

export interface RedisConnectionOptions {
  /**
   * How long the server may take to accept the connection and answer its handshake.
   * @defaultValue DEFAULT_CONNECT_TIMEOUT_MS
   */
  readonly timeoutMs?: number;
  /** Takes the replies no command waits for; without a sink they are dropped, and post() cannot be used. */
  readonly unsolicited?: UnsolicitedSink;
}

interface PendingReply {
  readonly resolve: (value: RespValue) => void;
  readonly reject: (error: Error) => void;
}

export class RedisConnection {
  readonly #socket: Socket;
  readonly #pending: PendingReply[] = [];
  readonly #unsolicited: UnsolicitedSink | undefined;
  #closedError: Error | undefined;

  private constructor(socket: Socket, unsolicited: UnsolicitedSink | undefined) {
    this.#socket = socket;
    this.#unsolicited = unsolicited;
    const decoder = new RespDecoder((value) => {
      const pending = this.#pending.shift();
      if (pending) pending.resolve(value);
      else this.#unsolicited?.reply(value);
    });
    socket.on('data', (chunk) => decoder.push(chunk));
    socket.on('error', (error) => this.#fail(error));
    socket.on('close', () => this.#fail(new RedisCommandError('connection to redis-server closed')));
  }

  /**
   * Opens a RESP2 connection with the runtime's handshake; `role` names it (`writebehind-runtime-<role>`). A
   * server that does not answer within the timeout (connect and handshake) or refuses the handshake leaves no
   * socket open.
   */
  static async open(address: RedisAddress, role: string, options: RedisConnectionOptions = {}): Promise<RedisConnection> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
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
      connection = new RedisConnection(socket, options.unsolicited);
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

  /**
   * Sends a command without waiting for its reply: what it answers goes to the unsolicited sink. For SUBSCRIBE,
   * which answers once per channel (or refuses once). Send no other command until those answers are in, or the
   * first of them would be taken for its reply.
   */
  post(args: readonly (string | Buffer)[]): void {
    if (!this.#unsolicited) throw new Error('post() needs a connection opened with an unsolicited sink');
    if (this.#closedError) throw this.#closedError;
    this.#socket.write(encodeCommand(args));
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
    // Once failed, send() rejects at once: nothing can be pending on a later call ('close' follows 'error').
    if (this.#closedError) return;
    this.#closedError = error;
    for (const pending of this.#pending.splice(0)) pending.reject(error);
    this.#unsolicited?.closed(error);
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
