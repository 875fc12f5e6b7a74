/**
 * A client connection's own connection to redis-server, and the queue of replies it waits for. Frames are
 * matched to expectations in order; a frame none waits for, and every out-of-band push, goes to `unsolicited`
 * (pub/sub messages, MONITOR lines, replies a subscribed connection forwards as a stream).
 */
import type { Socket } from 'node:net';
import { decodeFrame, RespFramer } from '../resp/decoder.js';
import type { RespValue } from '../resp/types.js';
import { parseClientList } from './client-kill.js';
import type { RedisAddress } from '../../shared/redis-address.js';
import { openSocket, type RedisConnection } from './redis-connection.js';
import { encodeCommand } from '../resp/encoder.js';
import { helloCommand, helloId } from '../handshake.js';
import { SocketPump } from '../sync-redis/socket-reads.js';
import { writeToSocket } from '../sync-redis/socket-writes.js';

export interface Expectation {
  /** The reply's bytes; decodeFrame(raw) when its value matters (most are only forwarded). */
  reply(raw: Buffer): void;
  fail(error: Error): void;
}

export interface UpstreamHandlers {
  unsolicited(raw: Buffer): void;
  /** redis-server closed the connection (not called after close()). */
  closed(): void;
  /** An awaited reply came, and went to its expectation (one fewer is pending). */
  replied?(): void;
}

export class UpstreamLink {
  readonly #socket: Socket;
  readonly #onData: (chunk: Buffer) => void;
  readonly #pump: SocketPump;
  readonly #expectations: Expectation[] = [];
  #drainWaiters: (() => void)[] = [];
  #closedError: Error | undefined;
  /** The server's id for this connection, looked up when first needed. */
  #serverId: Promise<number | null> | undefined;
  /** The client is not reading what it is owed (ClientOutput's backlog). */
  #clientBacklogged = false;
  /** Reading the server is stopped for that backlog. */
  #paused = false;
  #detached = false;

  private constructor(socket: Socket, handlers: UpstreamHandlers) {
    this.#socket = socket;
    const framer = new RespFramer((raw) => {
      if (this.#expectations.length === 0 || isPushFrame(raw)) return handlers.unsolicited(raw);
      this.#expectations.shift()!.reply(raw);
      if (this.#expectations.length === 0) {
        this.#resolveDrainWaiters();
        this.#followBacklog();
      }
      handlers.replied?.();
    });
    this.#onData = (chunk: Buffer) => framer.push(chunk);
    socket.on('data', this.#onData);
    this.#pump = new SocketPump(socket, (chunk) => framer.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.#closedError) return;
      this.#fail(new Error('connection to redis-server closed'));
      handlers.closed();
    });
  }

  static async open(address: RedisAddress, handlers: UpstreamHandlers): Promise<UpstreamLink> {
    const socket = await openSocket(address);
    socket.setNoDelay(true);
    const link = new UpstreamLink(socket, handlers);
    if (address.path !== undefined) await link.#learnIdOnUnixSocket(address);
    return link;
  }

  /**
   * CLIENT LIST names every Unix-socket client by the socket's path, so serverId() cannot find this one by its
   * address: ask HELLO for the id before the client's first command, then RESET the connection to what a client
   * expects of a new one (the default user, RESP2, database 0, no name).
   */
  async #learnIdOnUnixSocket(address: RedisAddress): Promise<void> {
    const hello = this.expectValue();
    const reset = this.expectValue();
    this.write(Buffer.concat([encodeCommand(helloCommand(address, 2, null)), encodeCommand(['RESET'])]));
    const id = helloId(await hello);
    await reset;
    this.#serverId = Promise.resolve(id);
  }

  /** Replies still awaited. */
  get pending(): number {
    return this.#expectations.length;
  }

  write(bytes: Buffer): void {
    writeToSocket(this.#socket, bytes);
  }

  /**
   * Reads the connection now, without waiting for an event-loop turn, until every awaited reply is in or
   * `budgetMs` passed (the rest then comes through the event loop as usual).
   */
  pumpReplies(budgetMs: number): void {
    if (this.#closedError === undefined) this.#pump.until(() => this.#expectations.length === 0, budgetMs);
  }

  expect(expectation: Expectation): void {
    if (this.#closedError) return expectation.fail(this.#closedError);
    // Read again first: what was read ahead before the pause is not this reply, and a lock may wait for it.
    if (this.#paused) this.#resume();
    this.#expectations.push(expectation);
  }

  /**
   * The client's socket holds more than it takes (true) or took it all (false). While it does and no reply is
   * awaited (a subscriber's messages, MONITOR lines), the server is not read: what the client has not taken stays
   * in the server's output buffer, where its client-output-buffer-limit, INFO and client eviction see it, as for
   * a client of its own, instead of growing the runtime's memory without bound. An awaited reply is read
   * whatever the backlog: a lock may wait for it (a pass-through command holds the shared lock until then).
   */
  setClientBacklogged(backlogged: boolean): void {
    this.#clientBacklogged = backlogged;
    this.#followBacklog();
  }

  #followBacklog(): void {
    const pause = this.#clientBacklogged && this.#expectations.length === 0 && this.#closedError === undefined && !this.#detached;
    if (pause === this.#paused) return;
    if (pause) {
      this.#paused = true;
      this.#socket.pause();
    } else {
      this.#resume();
    }
  }

  #resume(): void {
    this.#paused = false;
    // What the stream read before it stopped goes to the framer now, ahead of anything read after (the pump).
    while (this.#socket.read() !== null);
    this.#socket.resume();
  }

  /** The next reply, decoded; its bytes handed to `onRaw` first when given. */
  expectValue(onRaw?: (raw: Buffer) => void): Promise<RespValue> {
    const value = new Promise<RespValue>((resolve, reject) => {
      this.expect({
        reply: (raw) => {
          onRaw?.(raw);
          resolve(decodeFrame(raw));
        },
        fail: reject,
      });
    });
    // Several replies are awaited in turn: when the connection closes, those after the first failure are never
    // awaited, and their rejection must not be an unhandled one (it would end the process).
    value.catch(() => undefined);
    return value;
  }

  /** Resolves once every reply awaited so far has come (or the link closed). */
  drained(): Promise<void> {
    if (this.#expectations.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /**
   * The server's id for this connection (CLIENT LIST ID <id> tells whether it blocked or a WATCH failed), found
   * by its address on the control connection: asking on the connection itself would put a CLIENT ID in the
   * client's MONITOR and SLOWLOG, and depend on its user being allowed to run it.
   */
  serverId(control: RedisConnection): Promise<number | null> {
    const socket = this.#socket;
    this.#serverId ??= control.send(['CLIENT', 'LIST']).then(
      (reply) => {
        const ip = socket.localAddress ?? '';
        const addr = ip.includes(':') ? `[${ip}]:${socket.localPort}` : `${ip}:${socket.localPort}`;
        return parseClientList(reply).find((client) => client.addr === addr)?.id ?? null;
      },
      () => null,
    );
    return this.#serverId;
  }

  /**
   * Stops framing replies and hands over the socket (its close still reaches `closed`), for a connection that
   * becomes a byte pipe (replication-pipe.ts). Call it with no reply awaited.
   */
  detach(): Socket {
    if (this.#paused) this.#resume();
    this.#detached = true;
    this.#socket.off('data', this.#onData);
    return this.#socket;
  }

  /** Closes the connection; every awaited reply fails with `reason`. */
  close(reason: Error): void {
    this.#fail(reason);
    this.#socket.destroy();
  }

  #fail(error: Error): void {
    this.#closedError ??= error;
    for (const expectation of this.#expectations.splice(0)) expectation.fail(this.#closedError);
    this.#resolveDrainWaiters();
  }

  #resolveDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** An out-of-band push (RESP3), possibly behind an attribute. */
export function isPushFrame(raw: Buffer): boolean {
  return raw[0] === 0x3e || (raw[0] === 0x7c && decodeFrame(raw).type === 'push');
}
