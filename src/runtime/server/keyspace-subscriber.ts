/**
 * The runtime's view of the server's keyspace notifications: a dedicated connection subscribed to every
 * keyevent channel (`__keyevent@*__:*`, keys kept as raw bytes) and to the runtime's own marker channel.
 *
 * Redis delivers pub/sub messages in the order it generates them, so when a `PUBLISH <marker> <seq>` is sent
 * after a command (pipelined on the same connection, or on any connection once the command's reply is in),
 * every event the command caused arrives before marker `seq`. `waitForMarker(seq)` therefore yields exactly the
 * events since the previous marker. Events that arrive while nobody waits for a marker (active expiry,
 * eviction, a blocked command served later) are kept only if a trigger could care about them, and reported as
 * unclaimed so the runtime can process them in the background.
 */
import type { Socket } from 'node:net';
import { RedisCommandError } from '../../shared/errors.js';
import type { KeyspaceEvent } from '../gears-host.js';
import { decodeFrame, RespFramer } from '../resp/decoder.js';
import { encodeCommand } from '../resp/encoder.js';
import type { RespValue } from '../resp/types.js';
import { pubsubMessageParts } from './pubsub-message.js';
import { helloCommand } from '../handshake.js';
import type { RedisAddress } from '../../shared/redis-address.js';
import { openSocket } from './redis-connection.js';
import { SocketPump } from '../sync-redis/socket-reads.js';

const KEYEVENT_PATTERN = '__keyevent@*__:*';
const KEYEVENT_CHANNEL = /^__keyevent@(\d+)__:(.+)$/;
const PMESSAGE = Buffer.from('pmessage');
const MESSAGE = Buffer.from('message');
/** The channels' meanings, by channel name: a few dozen event names per database. */
const MAX_CHANNELS_KNOWN = 1024;

interface MarkerWaiter {
  readonly resolve: (events: KeyspaceEvent[]) => void;
  readonly reject: (error: Error) => void;
}

export interface KeyspaceSubscriberOptions {
  readonly address: RedisAddress;
  readonly markerChannel: string;
  /** Whether any trigger could care about an event on this key (others are dropped when unclaimed). */
  readonly isRelevant: (key: Buffer) => boolean;
  /** Called (synchronously) when relevant events arrived with no marker awaited. */
  readonly onUnclaimed: () => void;
  /** Called once if the subscription connection fails: the runtime can no longer see events. */
  readonly onFailure: (error: Error) => void;
}

export class KeyspaceSubscriber {
  readonly #socket: Socket;
  readonly #options: KeyspaceSubscriberOptions;
  readonly #markerChannel: Buffer;
  readonly #waiters = new Map<number, MarkerWaiter>();
  #sinceMarker: KeyspaceEvent[] = [];
  #unclaimed: KeyspaceEvent[] = [];
  #nextSeq = 1;
  #pump: SocketPump | undefined;
  #failure: Error | undefined;
  #closing = false;
  #id = -1;
  readonly #channels = new Map<string, { db: number; event: string } | null>();

  private constructor(socket: Socket, options: KeyspaceSubscriberOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#markerChannel = Buffer.from(options.markerChannel);
  }

  static async open(options: KeyspaceSubscriberOptions): Promise<KeyspaceSubscriber> {
    const socket = await openSocket(options.address);
    socket.setNoDelay(true);
    const subscriber = new KeyspaceSubscriber(socket, options);
    await subscriber.#subscribe();
    return subscriber;
  }

  /** The server's id for the subscription connection (CLIENT KILL through the runtime spares it). */
  get id(): number {
    return this.#id;
  }

  /** A fresh marker number; register it with waitForMarker before the PUBLISH can reach the server. */
  nextMarker(): number {
    return this.#nextSeq++;
  }

  /** The events that arrive before marker `seq`. */
  waitForMarker(seq: number): Promise<KeyspaceEvent[]> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => this.#waiters.set(seq, { resolve, reject }));
  }

  /**
   * Reads the subscription now, without waiting for an event-loop turn, until marker `seq` has arrived or
   * `budgetMs` passed: behind a round trip that published it, it is usually there already.
   */
  pumpUntilMarker(seq: number, budgetMs: number): void {
    this.#pump?.until(() => !this.#waiters.has(seq), budgetMs);
  }

  /** Gives up on a marker whose PUBLISH will never run (its connection closed); its events become unclaimed. */
  cancel(seq: number): void {
    this.#waiters.delete(seq);
  }

  /** Relevant events arrived with no marker awaited and nobody has taken them yet. */
  get hasUnclaimed(): boolean {
    return this.#unclaimed.length > 0;
  }

  /** The relevant events that arrived with no marker awaited, oldest first; the caller now owns them. */
  takeUnclaimed(): KeyspaceEvent[] {
    const events = this.#unclaimed;
    this.#unclaimed = [];
    return events;
  }

  close(): Promise<void> {
    this.#closing = true;
    if (this.#socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#socket.once('close', () => resolve());
      this.#socket.destroy();
    });
  }

  #subscribe(): Promise<void> {
    return new Promise((resolve, reject) => {
      let confirmations = 0;
      const expected = 4;
      const onSetupValue = (value: RespValue): boolean => {
        if (confirmations >= expected) return false;
        if (value.type === 'error') {
          reject(new RedisCommandError(`keyspace subscription refused: ${value.value}`));
          this.#socket.destroy();
          return true;
        }
        if (value.type === 'integer') this.#id = Number(value.value); // CLIENT ID
        if (++confirmations === expected) resolve();
        return true;
      };
      // Every write of the server makes an event here: messages are read from the frame's bytes, without
      // decoding them into values (the replies to the set-up commands are decoded).
      const framer = new RespFramer((raw) => {
        if (confirmations < expected) onSetupValue(decodeFrame(raw));
        else this.#onMessage(raw);
      });
      this.#socket.on('data', (chunk) => framer.push(chunk));
      this.#pump = new SocketPump(this.#socket, (chunk) => framer.push(chunk));
      this.#socket.on('error', (error) => this.#fail(error));
      this.#socket.on('close', () => {
        const error = new RedisCommandError('keyspace subscription connection closed');
        reject(error);
        this.#fail(error);
      });
      this.#socket.write(
        Buffer.concat([
          encodeCommand(helloCommand(this.#options.address, 2, 'keyevents')),
          encodeCommand(['CLIENT', 'ID']),
          encodeCommand(['PSUBSCRIBE', KEYEVENT_PATTERN]),
          encodeCommand(['SUBSCRIBE', this.#markerChannel]),
        ]),
      );
    });
  }

  #onMessage(raw: Buffer): void {
    const parts = pubsubMessageParts(raw);
    if (parts === null) return;
    const [kind, first, second, third] = parts;
    if (parts.length === 4 && kind!.equals(PMESSAGE)) {
      const channel = this.#channel(second!);
      if (channel !== null) this.#onEvent({ db: channel.db, event: channel.event, key: third! });
    } else if (parts.length === 3 && kind!.equals(MESSAGE) && first!.equals(this.#markerChannel)) {
      this.#onMarker(Number(second!.toString('latin1')));
    }
  }

  /** The database and event a keyevent channel names, or null for another channel. */
  #channel(name: Buffer): { db: number; event: string } | null {
    const text = name.toString('latin1');
    let known = this.#channels.get(text);
    if (known === undefined) {
      const match = KEYEVENT_CHANNEL.exec(text);
      known = match ? { db: Number(match[1]), event: match[2]! } : null;
      if (this.#channels.size >= MAX_CHANNELS_KNOWN) this.#channels.clear();
      this.#channels.set(text, known);
    }
    return known;
  }

  #onEvent(event: KeyspaceEvent): void {
    if (this.#waiters.size > 0) {
      this.#sinceMarker.push(event);
    } else if (this.#options.isRelevant(event.key)) {
      this.#unclaimed.push(event);
      this.#options.onUnclaimed();
    }
  }

  #onMarker(seq: number): void {
    const events = this.#sinceMarker;
    this.#sinceMarker = [];
    const waiter = this.#waiters.get(seq);
    if (waiter) {
      this.#waiters.delete(seq);
      waiter.resolve(events);
      return;
    }
    const relevant = events.filter((event) => this.#options.isRelevant(event.key));
    if (relevant.length === 0) return;
    this.#unclaimed.push(...relevant);
    this.#options.onUnclaimed();
  }

  #fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    for (const waiter of this.#waiters.values()) waiter.reject(error);
    this.#waiters.clear();
    if (!this.#closing) this.#options.onFailure(error);
  }
}
