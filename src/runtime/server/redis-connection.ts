/**
 * A minimal request/reply connection to the backing redis-server for the runtime's own use (configuration,
 * COMMAND, ordering markers, CLIENT LIST, the notify-keyspace-events probe's subscription). Replies come back
 * decoded, in order; a closed connection rejects everything still waiting. A reply no command waits for (on a
 * subscribed connection: each confirmation and message) goes to the connection's unsolicited sink.
 */
import { connect, type Socket } from 'node:net';
import { errorMessage, RedisCommandError } from '../../shared/errors.js';
import { RespDecoder } from '../resp/decoder.js';
import { encodeCommand } from '../resp/encoder.js';
import type { RespValue } from '../resp/types.js';
import { closedBeforeAnswer, commandName } from '../closed-connection.js';
import { helloCommand, helloId, NO_EVICT_COMMAND } from '../handshake.js';
import type { Logger } from '../../shared/log.js';
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
  /**
   * Once redis-server closes the connection (its `timeout`, a CLIENT KILL), the next command opens it again, with
   * the same handshake, and says so on this log. Commands in flight when it closed fail: whether they ran is
   * unknown. Not with an unsolicited sink: a subscription is state the new connection would not have.
   */
  readonly reconnect?: { readonly log: Logger };
  /** Asks NO_EVICT_COMMAND after the handshake, on each connection opened again too (a refusal is ignored). */
  readonly noEvict?: boolean;
}

interface PendingReply {
  /** The command's name (and subcommand), for the error that says the server closed before answering it. */
  readonly command: string;
  readonly resolve: (value: RespValue) => void;
  readonly reject: (error: Error) => void;
}

export class RedisConnection {
  readonly #address: RedisAddress;
  readonly #role: string;
  readonly #timeoutMs: number;
  readonly #noEvict: boolean;
  readonly #unsolicited: UnsolicitedSink | undefined;
  readonly #reconnect: { readonly log: Logger } | undefined;
  readonly #pending: PendingReply[] = [];
  readonly #reopened: ((id: number | null) => void)[] = [];
  #socket: Socket | undefined;
  /** Why the current socket is gone, once it is. */
  #closedError: Error | undefined;
  /** close() was called: nothing reopens the connection. */
  #closed = false;
  #reopening: Promise<void> | null = null;

  private constructor(address: RedisAddress, role: string, options: RedisConnectionOptions) {
    if (options.reconnect !== undefined && options.unsolicited !== undefined) throw new Error('a connection with an unsolicited sink cannot reconnect');
    this.#address = address;
    this.#role = role;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#unsolicited = options.unsolicited;
    this.#reconnect = options.reconnect;
    this.#noEvict = options.noEvict ?? false;
  }

  /**
   * Opens a RESP2 connection with the runtime's handshake; `role` names it (`writebehind-runtime-<role>`). A
   * server that does not answer within the timeout (connect and handshake) or refuses the handshake leaves no
   * socket open.
   */
  static async open(address: RedisAddress, role: string, options: RedisConnectionOptions = {}): Promise<RedisConnection> {
    const connection = new RedisConnection(address, role, options);
    await connection.#connect();
    return connection;
  }

  /** Tells `listener` the server id of each connection opened again after redis-server closed the last one. */
  onReopened(listener: (id: number | null) => void): void {
    this.#reopened.push(listener);
  }

  /** Sends a command; resolves with its reply, error replies included (they are values, not exceptions). */
  send(args: readonly (string | Buffer)[]): Promise<RespValue> {
    if (this.#closed) return Promise.reject(this.#closedError ?? new RedisCommandError('connection to redis-server closed'));
    if (this.#closedError !== undefined && this.#reconnect !== undefined) this.#reopening ??= this.#reopen(this.#closedError);
    if (this.#reopening !== null) return this.#reopening.then(() => this.send(args));
    if (this.#closedError) return Promise.reject(this.#closedError);
    return this.#request(args);
  }

  /**
   * Sends a command without waiting for its reply: what it answers goes to the unsolicited sink. For SUBSCRIBE,
   * which answers once per channel (or refuses once). Send no other command until those answers are in, or the
   * first of them would be taken for its reply.
   */
  post(args: readonly (string | Buffer)[]): void {
    if (!this.#unsolicited) throw new Error('post() needs a connection opened with an unsolicited sink');
    if (this.#closedError) throw this.#closedError;
    this.#socket!.write(encodeCommand(args));
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
    this.#closed = true;
    const socket = this.#socket;
    if (socket === undefined || socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  #request(args: readonly (string | Buffer)[]): Promise<RespValue> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ command: commandName(args), resolve, reject });
      this.#socket!.write(encodeCommand(args));
    });
  }

  /** Connects and runs the handshake within the timeout; on failure no socket is left open. Resolves the id. */
  async #connect(): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.#socket?.destroy();
        reject(new RedisCommandError(`redis-server at ${this.#address.where} did not answer within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
    });
    timedOut.catch(() => undefined);
    try {
      const socket = await Promise.race([openSocket(this.#address), timedOut]);
      socket.setNoDelay(true);
      this.#attach(socket);
      const hello = await Promise.race([this.#request(helloCommand(this.#address, 2, this.#role)), timedOut]);
      if (hello.type === 'error') throw new RedisCommandError(hello.value, { context: { command: 'HELLO' } });
      if (this.#noEvict) await Promise.race([this.#request(NO_EVICT_COMMAND), timedOut]);
      return helloId(hello);
    } catch (cause) {
      this.#socket?.destroy();
      throw cause;
    } finally {
      clearTimeout(timer);
    }
  }

  #attach(socket: Socket): void {
    this.#socket = socket;
    this.#closedError = undefined;
    const decoder = new RespDecoder((value) => {
      const pending = this.#pending.shift();
      if (pending) pending.resolve(value);
      else this.#unsolicited?.reply(value);
    });
    socket.on('data', (chunk) => decoder.push(chunk));
    socket.on('error', (error) => this.#fail(socket, error));
    socket.on('close', () => this.#fail(socket, this.#closedByServer()));
  }

  /**
   * Why the connection is gone, once redis-server closed it: with a reply awaited, most likely that reply
   * outgrew the server's client-output-buffer-limit (closed-connection.ts).
   */
  #closedByServer(): Error {
    const awaited = this.#pending[0];
    if (awaited === undefined) return new RedisCommandError('connection to redis-server closed');
    return new RedisCommandError(closedBeforeAnswer(this.#address.where, this.#role, awaited.command), { context: { command: awaited.command } });
  }

  /**
   * Opens the connection again after redis-server closed it (`cause`). Commands sent meanwhile wait for it; if the
   * server cannot be reached they fail with why, and the next command tries again.
   */
  async #reopen(cause: Error): Promise<void> {
    try {
      const id = await this.#connect();
      if (this.#closed) {
        this.#socket!.destroy();
        return;
      }
      this.#reconnect!.log.warn({ connection: this.#role, err: cause.message, redis: this.#address.where }, "redis-server closed one of the runtime's own connections: opened it again");
      for (const listener of this.#reopened) listener(id);
    } catch (error) {
      this.#closedError = new RedisCommandError(`the runtime's ${this.#role} connection to redis-server at ${this.#address.where} was closed (${cause.message}) and cannot be opened again: ${errorMessage(error)}`, { cause: error });
      throw this.#closedError;
    } finally {
      this.#reopening = null;
    }
  }

  #fail(socket: Socket, error: Error): void {
    // Once failed, send() rejects at once: nothing can be pending on a later call ('close' follows 'error').
    if (socket !== this.#socket || this.#closedError) return;
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
