/**
 * The runtime's view of the server's keyspace notifications: a dedicated connection subscribed to the keyspace
 * channels of the prefixes some trigger watches (`__keyspace@*__:<prefix>*`, keys kept as raw bytes; see
 * watch()) and to the runtime's own marker channel. Until the library host says which prefixes it watches, the
 * subscription covers every key (`__keyspace@*__:*`), so a host that never says still sees every event.
 *
 * Only watched keys cost anything: redis-server publishes a keyspace message only to patterns that match, so a
 * write of an unwatched key sends the runtime nothing (docs/runtime.md, pass-through).
 *
 * Redis delivers pub/sub messages in the order it generates them, so when a `PUBLISH <marker> <seq>` is sent
 * after a command (pipelined on the same connection, or on any connection once the command's reply is in),
 * every event the command caused arrives before marker `seq`. `waitForMarker(seq)` therefore yields exactly the
 * events since the previous marker (or since a fence(), the PUBLISH-less marker of a paused server). Events that arrive while nobody waits for a marker (active expiry,
 * eviction, a blocked command served later) are kept only if a trigger could care about them, and reported as
 * unclaimed so the runtime can process them in the background. Events on the library store's keys (which the
 * host's prefixes cover) are no trigger's: each goes to onStoreEvent as it arrives, outside any marker; so do
 * those on the runtime's lease (onLeaseEvent), which must be seen before the events of any later write.
 *
 * A FLUSHALL or FLUSHDB raises no keyspace event, but the server tells every client with CLIENT TRACKING on, at
 * once (a null invalidation): this connection turns tracking on, redirected to itself, with OPTIN and no read
 * opted in, so it is told of flushes and of nothing else, in order with the events (onFlush).
 */
import type { Socket } from 'node:net';
import { RedisCommandError } from '../../shared/errors.js';
import type { KeyspaceEvent } from '../gears-host.js';
import { decodeFrame, RespFramer } from '../resp/decoder.js';
import { encodeCommand } from '../resp/encoder.js';
import type { RespValue } from '../resp/types.js';
import { pubsubMessageParts } from './pubsub-message.js';
import { helloCommand, NO_EVICT_COMMAND } from '../handshake.js';
import type { RedisAddress } from '../../shared/redis-address.js';
import { openSocket } from './redis-connection.js';
import { SocketPump, socketDescriptor } from '../sync-redis/socket-reads.js';
import { writeFully } from '../sync-redis/socket-writes.js';
import { coveringPrefixes, keyspaceChannelKey, keyspacePattern } from './keyspace-channel.js';
import { hasPrefix } from '../../shared/byte-prefix.js';

/** Every key of every database: the subscription until the host names its prefixes. */
const EVERY_KEY = keyspacePattern(Buffer.alloc(0));
const PMESSAGE = Buffer.from('pmessage');
const MESSAGE = Buffer.from('message');
const NEW_EVENT = Buffer.from('new');
const PONG = Buffer.from('pong');
/** What a tracking client is sent, in RESP2 through its redirection, when a database is flushed: a null. */
const FLUSH_MESSAGE = Buffer.from('*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n');
const PSUBSCRIBE_REPLY = Buffer.from('*3\r\n$10\r\npsubscribe\r\n');
const PUNSUBSCRIBE_REPLY = Buffer.from('*3\r\n$12\r\npunsubscribe\r\n');
/** How long a load may wait for the server to confirm a new prefix's subscription (ms): it is local, under load. */
const CONFIRM_BUDGET_MS = 10_000;

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
  /** Whether `key` is one of the library store's (fires no trigger; its events go to onStoreEvent). */
  readonly isStoreKey: (key: Buffer) => boolean;
  /**
   * Called (synchronously) with each event on a store key as it arrives, whoever caused it and whatever marker
   * is awaited: the store is written again when a key of it goes away (library-host/store-guard.ts).
   */
  readonly onStoreEvent: (event: KeyspaceEvent) => void;
  /** Whether `key` is a runtime lease (runtime-lease.ts isLeaseKey; fires no trigger, its events go to onLeaseEvent). */
  readonly isLeaseKey?: (key: Buffer) => boolean;
  /**
   * Called (synchronously) with each event on a lease key as it arrives, before any event after it is read: the
   * lease is doubted before the scheduler can fire for a write made after another runtime took it.
   */
  readonly onLeaseEvent?: (event: KeyspaceEvent) => void;
  /**
   * Called (synchronously) when the server flushed a database (FLUSHALL, FLUSHDB of any database: it does not say
   * which; also a replica's full sync), by whatever client, before any event after it is read.
   */
  readonly onFlush?: () => void;
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
  /** The server's refusal of CLIENT NO-EVICT ON (a server before 7.0, a user denied CLIENT), if it refused. */
  #noEvictRefusal: string | undefined;
  /** The server's refusal of CLIENT TRACKING (a user denied CLIENT), if it refused: flushes then go unseen. */
  #trackingRefusal: string | undefined;
  /** The patterns asked for, by their bytes as latin1 text, and the prefix each stands for. */
  #wanted = new Map<string, Buffer>([[EVERY_KEY.toString('latin1'), Buffer.alloc(0)]]);
  /**
   * The patterns the server delivers through at the point the stream has been read to: a confirmed PSUBSCRIBE
   * adds one, a confirmed PUNSUBSCRIBE removes it (messages and confirmations come in the server's order).
   */
  readonly #live = new Map<string, Buffer>(this.#wanted);
  /** PSUBSCRIBE/PUNSUBSCRIBE confirmations the server still owes. */
  #unconfirmed = 0;
  /** The prefix of every pattern ever asked for (a confirmation names the pattern only). */
  readonly #known = new Map<string, Buffer>(this.#wanted);

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

  /**
   * Why the subscription may be evicted by the server's `maxmemory-clients` after all (CLIENT NO-EVICT ON was
   * refused), or undefined when it is exempt.
   */
  get noEvictRefusal(): string | undefined {
    return this.#noEvictRefusal;
  }

  /**
   * Why a FLUSHALL or FLUSHDB sent straight to redis-server goes unseen after all (CLIENT TRACKING was refused), or
   * undefined when onFlush is told of each.
   */
  get trackingRefusal(): string | undefined {
    return this.#trackingRefusal;
  }

  /** How many patterns the runtime holds on the server (PUBSUB NUMPAT through the runtime leaves them out). */
  get patternCount(): number {
    return this.#wanted.size;
  }

  /**
   * Subscribes to the keyspace channels of exactly these prefixes (an empty prefix is every key), and drops the
   * others. Returns once the server confirmed every new subscription, read synchronously so that the caller
   * (a library load, under the exclusive lock) can make its triggers count only after: a write to a new prefix
   * then always reaches the runtime. Throws if the confirmation does not come.
   */
  watch(prefixes: readonly Buffer[]): void {
    if (this.#failure) throw this.#failure;
    const wanted = new Map(coveringPrefixes(prefixes).map((prefix) => [keyspacePattern(prefix).toString('latin1'), prefix]));
    const added = [...wanted.keys()].filter((pattern) => !this.#wanted.has(pattern));
    const removed = [...this.#wanted.keys()].filter((pattern) => !wanted.has(pattern));
    if (added.length === 0 && removed.length === 0) return;
    const commands: Buffer[] = [];
    if (added.length > 0) commands.push(encodeCommand(['PSUBSCRIBE', ...added.map((p) => Buffer.from(p, 'latin1'))]));
    if (removed.length > 0) commands.push(encodeCommand(['PUNSUBSCRIBE', ...removed.map((p) => Buffer.from(p, 'latin1'))]));
    for (const [pattern, prefix] of wanted) this.#known.set(pattern, prefix);
    this.#wanted = wanted;
    this.#unconfirmed += added.length + removed.length;
    // Written synchronously, as the confirmation is read: nothing else is written on this connection after its
    // set-up but these and fence()'s PINGs, both this way, so nothing libuv queued can come after these bytes.
    writeFully(socketDescriptor(this.#socket), Buffer.concat(commands));
    if (added.length === 0) return;
    this.#pump?.until(() => this.#unconfirmed === 0 || this.#failure !== undefined, CONFIRM_BUDGET_MS);
    if (this.#failure) throw this.#failure;
    if (this.#unconfirmed > 0) throw new RedisCommandError(`the server did not confirm the keyspace subscription of ${added.length} new prefix(es) within ${CONFIRM_BUDGET_MS} ms`);
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
   * `budgetMs` passed: behind a round trip that published it, it is usually there already. Returns whether it has.
   */
  pumpUntilMarker(seq: number, budgetMs: number): boolean {
    this.#pump?.until(() => !this.#waiters.has(seq), budgetMs);
    return !this.#waiters.has(seq);
  }

  /**
   * Ends marker `seq` without its PUBLISH (which a paused server holds): a `PING` here, sent once the replies of the
   * commands it fences are in, is answered after every event they caused, which the server queued on this
   * connection before it wrote their replies. Its `pong` then delivers the events as the marker would have.
   */
  fence(seq: number): void {
    if (this.#failure !== undefined || !this.#waiters.has(seq)) return;
    // Written synchronously, as in watch().
    writeFully(socketDescriptor(this.#socket), encodeCommand(['PING', String(seq)]));
  }

  /**
   * Gives up on a marker whose PUBLISH will never run (its connection closed); its events become unclaimed.
   * False when the marker had come already: its events went to the waiter, who must give them back.
   */
  cancel(seq: number): boolean {
    return this.#waiters.delete(seq);
  }

  /** Events a marker delivered to a waiter that could not settle them: unclaimed again, for the background. */
  giveBack(events: readonly KeyspaceEvent[]): void {
    const relevant = events.filter((event) => this.#options.isRelevant(event.key));
    if (relevant.length === 0) return;
    this.#unclaimed.push(...relevant);
    this.#options.onUnclaimed();
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
      const expected = 6;
      const idReply = 1;
      const noEvictReply = 2;
      const trackingReply = 3;
      const onSetupValue = (value: RespValue): boolean => {
        if (confirmations >= expected) return false;
        if (value.type === 'error' && (confirmations === noEvictReply || confirmations === trackingReply)) {
          if (confirmations === noEvictReply) this.#noEvictRefusal = value.value.trim();
          else this.#trackingRefusal = value.value.trim();
        } else if (value.type === 'error') {
          reject(new RedisCommandError(`keyspace subscription refused: ${value.value}`));
          this.#socket.destroy();
          return true;
        }
        if (confirmations === idReply && value.type === 'integer') {
          this.#id = Number(value.value); // CLIENT ID
          this.#socket.write(
            Buffer.concat([
              // A FLUSHALL or FLUSHDB raises no keyspace event, but the server tells every tracking client of it,
              // at once, ahead of the events of later writes: tracking redirected here, with OPTIN and no read
              // opted in, brings that and nothing else (`message __redis__:invalidate` with a null).
              encodeCommand(['CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(this.#id), 'OPTIN']),
              // The marker channel first: no message can come on it yet, while the pattern's may follow at once.
              encodeCommand(['SUBSCRIBE', this.#markerChannel]),
              encodeCommand(['PSUBSCRIBE', EVERY_KEY]),
            ]),
          );
        }
        if (++confirmations === expected) resolve();
        return true;
      };
      // Every write of a watched key makes an event here: messages are read from the frame's bytes, without
      // decoding them into values (the replies to the set-up commands are decoded).
      const framer = new RespFramer((raw) => {
        // A flush may come between the tracking's reply and the subscriptions': it is no set-up reply.
        if (confirmations < expected && !raw.equals(FLUSH_MESSAGE)) onSetupValue(decodeFrame(raw));
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
      // The rest once CLIENT ID answered: tracking is redirected to this connection's own id.
      this.#socket.write(
        Buffer.concat([
          encodeCommand(helloCommand(this.#options.address, 2, 'keyevents')),
          encodeCommand(['CLIENT', 'ID']),
          // A burst of changes to watched keys queues all their messages here at once, which makes this the
          // biggest client: Redis 7's client eviction (maxmemory-clients) would close it first.
          encodeCommand(NO_EVICT_COMMAND),
        ]),
      );
    });
  }

  #onMessage(raw: Buffer): void {
    const parts = pubsubMessageParts(raw);
    if (parts === null) {
      this.#onOtherFrame(raw);
      return;
    }
    const [kind, first, second, third] = parts;
    if (parts.length === 4 && kind!.equals(PMESSAGE)) {
      const channel = keyspaceChannelKey(second!);
      // `new` (flag `n`, which a client may turn on): RedisGears subscribes with ALL | MISSED, which leaves it out.
      if (channel !== null && !third!.equals(NEW_EVENT) && this.#takesThrough(first!.toString('latin1'), channel.key)) {
        this.#onEvent({ db: channel.db, event: third!.toString('latin1'), key: channel.key });
      }
    } else if (parts.length === 3 && kind!.equals(MESSAGE) && first!.equals(this.#markerChannel)) {
      this.#onMarker(Number(second!.toString('latin1')));
    } else if (parts.length === 2 && kind!.equals(PONG)) {
      this.#onMarker(Number(first!.toString('latin1'))); // a fence()
    }
  }

  /**
   * Whether the message for `key` that came through `pattern` is the one to take. Every live pattern matching a
   * key delivers its own copy: two prefixes of the key while a subscription changes (`a` leaving, `ab` coming),
   * or `*` in `__keyspace@*__:` matching across the `__:` of a key holding one (`x__:ab…` under `ab`). The copy
   * of the shortest live prefix that starts the key is taken, so each event counts once and none is lost.
   */
  #takesThrough(pattern: string, key: Buffer): boolean {
    const prefix = this.#live.get(pattern);
    if (prefix === undefined || !hasPrefix(key, prefix)) return false;
    if (this.#live.size === 1) return true;
    for (const other of this.#live.values()) if (other.length < prefix.length && hasPrefix(key, other)) return false;
    return true;
  }

  /** A (P)SUBSCRIBE confirmation (its count is an integer, not a bulk), a flush, or the server's refusal of one. */
  #onOtherFrame(raw: Buffer): void {
    const subscribed = raw.subarray(0, PSUBSCRIBE_REPLY.length).equals(PSUBSCRIBE_REPLY);
    if (subscribed || raw.subarray(0, PUNSUBSCRIBE_REPLY.length).equals(PUNSUBSCRIBE_REPLY)) {
      this.#unconfirmed--;
      const value = decodeFrame(raw);
      const pattern = value.type === 'array' && value.value[1]?.type === 'blob' ? value.value[1].value.toString('latin1') : '';
      if (subscribed) this.#live.set(pattern, this.#known.get(pattern) ?? Buffer.alloc(0));
      else this.#live.delete(pattern);
    } else if (raw.equals(FLUSH_MESSAGE)) {
      this.#options.onFlush?.();
    } else if (raw[0] === 0x2d) {
      this.#fail(new RedisCommandError(`keyspace subscription refused: ${raw.toString('utf8', 1).trim()}`));
      this.#socket.destroy();
    }
  }

  #onEvent(event: KeyspaceEvent): void {
    if (this.#options.isLeaseKey?.(event.key) === true) {
      this.#options.onLeaseEvent?.(event);
    } else if (this.#options.isStoreKey(event.key)) {
      this.#options.onStoreEvent(event);
    } else if (this.#waiters.size > 0) {
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
