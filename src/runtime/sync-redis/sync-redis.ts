/**
 * A Redis client whose `call` blocks the calling thread until the reply is there: library code in the sandbox
 * calls Redis synchronously, as RedisGears' `client.call` does, while the runtime holds its global lock.
 *
 * The main thread owns the connection's file descriptor and does its own I/O with fs.writeSync/fs.readSync;
 * libuv never reads from it. The socket is non-blocking: a wait sleeps in poll(2) until the reply comes (a
 * local redis-server answers within tens of microseconds) or, without the fd-wait addon, spins a few reads and
 * then sleeps in growing steps (socket-reads.ts). An earlier design posted each call to a worker thread and
 * slept in Atomics.wait; its thread hand-offs cost ~140 µs a call against ~25 µs here, and the capture path
 * makes several calls per HSET.
 *
 * A call always runs to its end: the lock timeout cannot cut it short. Library code's calls are host callbacks,
 * and a timeout terminates only the guest isolate, when its JavaScript runs again: isolated-vm's timer (which
 * pauses during host callbacks, so it counts the guest's own time) at its next interrupt check, and the wall-clock
 * deadline the sandbox checks around each call (time in calls counts, as in RedisGears) once the call has
 * returned (sandbox.ts; test/integration/library-call-timeout.test.ts). No other caller runs under a timeout. So the replies read
 * are always the batch's own, and the selected database is always known. What does stop a call (a failed write or
 * read, a reply that is not RESP, no reply within CALL_TIMEOUT_MS) breaks the connection.
 *
 * A broken connection stays broken, unless it was created with `reconnect` (the library host's is): then the next
 * call opens it again, blocking (the fd-wait addon's connect, within CONNECT_NOW_TIMEOUT_MS: Node has no
 * synchronous connect), with its handshake and settings, and runs on it. Each call first looks whether the server
 * closed the connection since the last (a CLIENT KILL, its `timeout`), so its commands go to the new connection
 * rather than fail on the old: a trigger's capture call right after a CLIENT KILL still captures. A call that fails
 * once sent is not sent again (it may have run). Without the addon the connection is opened in the background and
 * calls meanwhile fail with why. Either way it is also opened again in the background when found broken idle, and
 * kept from being closed while idle (redis-server's `timeout`, which spares only replicas, blocked and pub/sub
 * clients): a PING once it has been idle for KEEPALIVE_MS, which also finds a connection that was closed before a
 * call does. The PING is not waited for (a server busy with a script or paused would hold the thread): its reply
 * is read by the next look or dropped in front of the next batch's.
 */
import { closeSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { connectNow, waitReady, type ConnectNow } from './fd-wait.js';
import { READ_CHUNK, readWithin, socketDescriptor } from './socket-reads.js';
import { writeFully } from './socket-writes.js';
import { RespDecoder, RespProtocolError } from '../resp/decoder.js';
import { encodeCommands } from '../resp/encoder.js';
import type { RespValue } from '../resp/types.js';
import { errorMessage, RedisCommandError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { closedBeforeAnswer, commandName } from '../closed-connection.js';
import { helloCommand, helloId } from '../handshake.js';
import { parseRedisUrl, socketOptions, type RedisAddress } from '../../shared/redis-address.js';

export type CommandArgument = string | Buffer | Uint8Array;

/** A command that rides in front of the next batch, and what to do with its reply once that batch is in. */
export interface Rider {
  readonly command: readonly CommandArgument[];
  check(reply: RespValue): void;
}

/** How long a blocked call may wait before the connection is declared dead (Redis itself never takes that long). */
const CALL_TIMEOUT_MS = 60_000;
const CONNECT_TIMEOUT_MS = 10_000;
/**
 * How long a call may block the thread (and the runtime's lock) opening a closed connection again: a local
 * redis-server accepts within microseconds or refuses at once; one that cannot be reached fails the call.
 */
const CONNECT_NOW_TIMEOUT_MS = 2_000;
/** A reconnecting connection idle this long is pinged: under half of redis-server's smallest `timeout`, 1 s. */
const KEEPALIVE_MS = 400;

/** Why the runtime itself closed the connection: its replies were out of step with its calls. */
const CUT_SHORT = 'a call was cut short by an exception before its reply was read';

/** The warning for a connection opened again: closed by redis-server, or by the runtime (a call cut short). */
function reopened(cause: string | null): string {
  return cause === CUT_SHORT
    ? "a call cut short on one of the runtime's own connections left its replies out of step: closed it and opened it again"
    : "redis-server closed one of the runtime's own connections: opened it again";
}

export interface SyncRedisOptions {
  /** Told the server id of each connection opened, the first and every one opened again. */
  readonly onConnection?: (id: number) => void;
  /**
   * Open the connection again when it breaks (see above), saying so on this log. `connectNow` is the blocking
   * connect the next call opens it with (the fd-wait addon's by default; null: only in the background).
   */
  readonly reconnect?: { readonly log: Logger; readonly connectNow?: ConnectNow | null };
}

export class SyncRedis {
  readonly #address: RedisAddress;
  readonly #options: SyncRedisOptions;
  /** The connection opened by create() or in the background; null for one opened by a call (#fd alone). */
  #socket: Socket | null = null;
  #fd = -1;
  /** The blocking connect a call opens a broken connection with; null: it is opened in the background only. */
  readonly #connectNow: ConnectNow | null;
  #decoder!: RespDecoder;
  readonly #scratch = Buffer.allocUnsafeSlow(READ_CHUNK);
  /** Commands that set the connection up, run again on each new one (keepSetting). */
  readonly #settings: (readonly CommandArgument[])[] = [];
  #closed = false;
  #reopening: Promise<void> | null = null;
  #keepAlive: NodeJS.Timeout | null = null;
  #lastUsed = 0;
  /** Keepalive PINGs sent whose replies are not read yet: they come in front of the next batch's. */
  #owed = 0;
  /**
   * A batch's commands went out and its replies are not all read yet. Still set at the next batch or keepalive,
   * the batch was cut short by an exception thrown while it waited (a RangeError of a stack overflow, say): its
   * replies may still come, so the connection is broken rather than read on, each reply then taken for the next's.
   */
  #inFlight = false;
  /** Replies of the batch being waited for, in order. */
  #replies: RespValue[] = [];
  /** The connection's selected database. */
  #db = 0;
  /** Why calls fail now: null while the connection is open. */
  #broken: string | null = null;
  /** What closed or broke the connection last (#broken also says what is done about it). */
  #cause = '';
  /** Asked at each batch for a command to ride in front of it, in the batch's database. */
  #rider: ((db: number) => Rider | null) | null = null;
  /** The server's id for this connection (from its HELLO reply). */
  id: number | null = null;

  private constructor(address: RedisAddress, options: SyncRedisOptions) {
    this.#address = address;
    this.#options = options;
    this.#connectNow = options.reconnect === undefined || waitReady === null ? null : options.reconnect.connectNow === undefined ? connectNow : options.reconnect.connectNow;
  }

  /** Connects (the runtime's handshake: HELLO 3, with AUTH when the URL carries credentials). */
  static async create(redisUrl: string, options: SyncRedisOptions = {}): Promise<SyncRedis> {
    const client = new SyncRedis(parseRedisUrl(redisUrl), options);
    const socket = await connect(client.#address);
    client.#adopt(socket, ownedDescriptor(socket));
    if (options.reconnect !== undefined) {
      client.#keepAlive = setInterval(() => client.#tend(), KEEPALIVE_MS);
      client.#keepAlive.unref();
    }
    return client;
  }

  /** Runs a command that sets the connection up (READONLY), now and on each connection opened again. */
  keepSetting(command: readonly CommandArgument[]): RespValue {
    this.#settings.push(command);
    return this.call(command);
  }

  /** Runs one command in `db` and returns its RESP3 reply (errors are returned, not thrown). */
  call(args: readonly CommandArgument[], db = this.#db): RespValue {
    return this.batch([args], db)[0]!;
  }

  /**
   * Lets a writer that can wait (the stream positions) send its command in front of the next batch in a given
   * database instead of paying a round trip of its own.
   */
  carryRiders(rider: (db: number) => Rider | null): void {
    this.#rider = rider;
  }

  /**
   * Runs commands back to back in one round trip, in `db`, and returns one reply each. A SELECT is prepended
   * when the connection is on another database.
   */
  batch(commands: readonly (readonly CommandArgument[])[], db = this.#db): RespValue[] {
    this.#dropCutShort();
    if (this.#broken === null && this.#connectNow !== null) this.#noticeClosed();
    if (this.#broken !== null) this.#reopenNow();
    this.#lastUsed = performance.now();
    const select = db !== this.#db;
    const rider = this.#rider?.(db) ?? null;
    const all = [...(select ? [['SELECT', String(db)]] : []), ...(rider ? [rider.command] : []), ...commands];
    this.#inFlight = true;
    this.#write(encodeCommands(all));
    this.#await(this.#owed + all.length, commands[0]!);
    const replies = this.#replies.slice(this.#owed);
    this.#replies = [];
    this.#owed = 0;
    this.#inFlight = false;
    if (select && replies.shift()?.type !== 'error') this.#db = db;
    if (rider) rider.check(replies.shift()!);
    return replies;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#keepAlive !== null) clearInterval(this.#keepAlive);
    if (this.#broken === null) this.#broken = 'SyncRedis is closed';
    this.#release();
  }

  /**
   * Takes a new connection (a socket, or a descriptor alone) in place of the old one, and runs the handshake and
   * the settings on it; a connection that fails them is left closed.
   */
  #adopt(socket: Socket | null, fd: number): void {
    this.#release();
    this.#socket = socket;
    this.#fd = fd;
    this.#decoder = new RespDecoder((value) => this.#replies.push(value));
    this.#replies = [];
    this.#owed = 0;
    this.#db = 0;
    this.#broken = null;
    this.#inFlight = false;
    // No rider goes in front of the handshake: it would run before AUTH.
    const rider = this.#rider;
    this.#rider = null;
    try {
      const hello = this.call(helloCommand(this.#address, 3, 'sync'));
      if (hello.type === 'error') {
        this.#broken = this.#cause = `HELLO 3 refused: ${hello.value}`;
        this.#release();
        throw new RedisCommandError(this.#broken, { context: { command: 'HELLO' } });
      }
      this.id = helloId(hello);
      // Through call(db), so #db follows: a bare SELECT left #db at 0 on a connection in the URL's database, and
      // a later call for database 0 ran there unselected.
      if (this.#address.db !== 0) this.call(['PING'], this.#address.db);
      for (const command of this.#settings) this.call(command);
    } finally {
      this.#rider = rider;
    }
    if (this.id !== null) this.#options.onConnection?.(this.id);
  }

  /**
   * Each KEEPALIVE_MS, without waiting on the server: reads what came (a closed connection shows here), pings one
   * idle that long, and opens a broken one again.
   */
  #tend(): void {
    this.#dropCutShort();
    if (this.#broken === null) {
      try {
        this.#readWaiting();
        if (this.#owed === 0 && performance.now() - this.#lastUsed >= KEEPALIVE_MS) {
          this.#write(encodeCommands([['PING']]));
          this.#owed = 1;
          this.#lastUsed = performance.now();
        }
      } catch {
        // Broken: opened again below.
      }
    }
    if (this.#broken !== null) this.#reopenLater();
  }

  /** A batch cut short (#inFlight) breaks the connection: which reply answers what is unknown. */
  #dropCutShort(): void {
    if (this.#inFlight) this.#breakCutShort();
  }

  /**
   * An error without an errno is not the connection's but this thread's own (a stack overflow inside a read or
   * a write): the call is cut short, and the error goes to its caller as thrown.
   */
  #throwIfOwn(error: unknown): void {
    if ((error as NodeJS.ErrnoException).code !== undefined) return;
    this.#breakCutShort();
    throw error;
  }

  #breakCutShort(): void {
    this.#inFlight = false;
    if (this.#broken !== null) return;
    this.#broken = this.#cause = CUT_SHORT;
    this.#release();
  }

  /** Reads what has arrived, without waiting; the keepalive replies among it are dropped. */
  #readWaiting(): void {
    const read = this.#io(() => readWithin(this.#fd, this.#scratch, performance.now()));
    if (read === 0) this.#fail('connection to redis-server closed');
    if (read > 0) this.#decode(read);
    const answered = Math.min(this.#owed, this.#replies.length);
    this.#replies.splice(0, answered);
    this.#owed -= answered;
  }

  /**
   * Before a batch: a connection redis-server closed since the last one (a CLIENT KILL, its `timeout`) has its
   * end of stream waiting. Found now, the batch goes to a connection opened again instead of failing on this one,
   * so its commands run (one that fails after being sent may have run, and is not sent again). The look is a
   * poll(2) of no time: ~0.6 µs, against ~30 µs for a call's round trip.
   */
  #noticeClosed(): void {
    if (!waitReady!(this.#fd, false, 0)) return;
    try {
      this.#readWaiting();
    } catch {
      // Broken: the batch opens it again.
    }
  }

  /**
   * A batch on a broken connection opens it again first, blocking, with its handshake; without the blocking
   * connect (or once SyncRedis is closed) the batch fails, and the connection is opened again in the background.
   */
  #reopenNow(): void {
    const log = this.#options.reconnect?.log;
    if (this.#connectNow === null || log === undefined || this.#closed) {
      this.#reopenLater();
      throw new RedisCommandError(this.#broken!);
    }
    const closedBy = this.#cause;
    const cannot = (why: string, error: unknown): never => {
      this.#broken = `the runtime's sync connection to redis-server at ${this.#address.where} was closed (${closedBy}) and cannot be opened again: ${why}`;
      throw new RedisCommandError(this.#broken, { cause: error });
    };
    let fd = -1;
    try {
      fd = this.#connectNow(this.#address.host, this.#address.port, this.#address.path ?? '', CONNECT_NOW_TIMEOUT_MS);
    } catch (error) {
      // The addon's errors carry the errno's name (ECONNREFUSED, ETIMEDOUT) and its text, never the URL.
      cannot(`SyncRedis cannot connect to ${this.#address.where}: ${(error as NodeJS.ErrnoException).code ?? ''} ${errorMessage(error)}`, error);
    }
    try {
      this.#adopt(null, fd);
    } catch (error) {
      cannot(errorMessage(error), error);
    }
    log.warn({ connection: 'sync', err: closedBy, redis: this.#address.where }, reopened(closedBy));
  }

  /**
   * Opens a broken connection again in the background (once at a time); a failed try is retried by #tend. A call
   * that opened it meanwhile (#reopenNow) wins: the background one is closed.
   */
  #reopenLater(): void {
    const log = this.#options.reconnect?.log;
    if (log === undefined || this.#closed || this.#reopening !== null) return;
    const cause = this.#cause;
    this.#reopening = connect(this.#address)
      .then((socket) => {
        if (this.#closed || this.#broken === null) {
          socket.destroy();
          return;
        }
        this.#adopt(socket, ownedDescriptor(socket));
        log.warn({ connection: 'sync', err: cause, redis: this.#address.where }, reopened(cause));
      })
      .catch((error: unknown) => {
        if (this.#broken === null) return;
        this.#broken = `the runtime's sync connection to redis-server at ${this.#address.where} was closed (${cause}) and cannot be opened again yet: ${errorMessage(error)}`;
        log.debug({ connection: 'sync', err: errorMessage(error) }, 'opening the sync connection again failed');
      })
      .finally(() => {
        this.#reopening = null;
      });
    this.#broken = `the runtime's sync connection to redis-server at ${this.#address.where} was closed (${cause}); it is being opened again`;
  }

  /** Writes all of a batch; a failed write breaks the connection (what the server got of it is unknown). */
  #write(bytes: Buffer): void {
    try {
      writeFully(this.#fd, bytes);
    } catch (error) {
      this.#throwIfOwn(error);
      this.#fail(`connection to redis-server failed: ${(error as Error).message}`);
    }
  }

  /** Reads and decodes until `count` replies of this batch are in. */
  #await(count: number, first: readonly CommandArgument[]): void {
    const deadline = performance.now() + CALL_TIMEOUT_MS;
    while (this.#replies.length < count) {
      const read = this.#io(() => readWithin(this.#fd, this.#scratch, deadline));
      if (read > 0) {
        this.#decode(read);
        continue;
      }
      // Closed before the batch went out (its `timeout`, a CLIENT KILL) or while it was answered (a reply over
      // its output buffer limit): which, the server does not say.
      if (read === 0) this.#fail(closedBeforeAnswer(this.#address.where, 'sync', commandName(first)));
      this.#fail(`no reply from redis-server within ${CALL_TIMEOUT_MS} ms`);
    }
  }

  /**
   * Decodes the `read` bytes of the scratch buffer. A reply that is not RESP leaves the stream's framing unknown,
   * and with it which reply answers what: the connection is broken, like one whose reads fail.
   */
  #decode(read: number): void {
    try {
      // The decoder may keep a partial value's bytes: give it a copy, the scratch buffer is reused.
      this.#decoder.push(Buffer.from(this.#scratch.subarray(0, read)));
    } catch (error) {
      // Not the server's bytes but this thread's own failure inside the decoder (a stack overflow): the replies
      // are out of step as after any call cut short, and the error is the caller's, as thrown.
      if (!(error instanceof RespProtocolError)) {
        this.#breakCutShort();
        throw error;
      }
      this.#fail(`redis-server sent a malformed reply: ${error.message}`);
    }
  }

  /** Runs a read; -1 when the socket is not ready (EAGAIN), a broken connection otherwise. */
  #io(operation: () => number): number {
    try {
      return operation();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return -1;
      this.#throwIfOwn(error);
      this.#fail(`connection to redis-server failed: ${(error as Error).message}`);
    }
  }

  #fail(message: string): never {
    this.#inFlight = false;
    this.#broken = this.#cause = message;
    this.#release();
    throw new RedisCommandError(message);
  }

  /** Closes the connection; its descriptor number is forgotten at once, as it may soon belong to another. */
  #release(): void {
    if (this.#socket !== null) this.#socket.destroy();
    else if (this.#fd >= 0) closeSync(this.#fd);
    this.#socket = null;
    this.#fd = -1;
  }
}

function connect(address: RedisAddress): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketOptions(address));
    // Never let libuv read: every byte of the reply stream belongs to the synchronous reads.
    socket.pause();
    socket.setNoDelay(true);
    const timer = setTimeout(() => socket.destroy(new Error(`no connection to ${address.where} within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(new RedisCommandError(`SyncRedis cannot connect to ${address.where}: ${error.message}`, { cause: error }));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.unref();
      resolve(socket);
    });
  });
}

/** The socket's file descriptor, which libuv must never read from. */
function ownedDescriptor(socket: Socket): number {
  const fd = socketDescriptor(socket);
  const handle = (socket as unknown as { _handle?: { reading?: boolean; readStop?: () => number } })._handle;
  if (handle?.reading === true) handle.readStop?.();
  return fd;
}
