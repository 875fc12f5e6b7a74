/**
 * The bytes a client is owed, in the order it is owed them. Each command reserves its slot when dispatched;
 * the slot is filled when its reply is known and may be held back while the triggers it fired run, and only
 * a ready prefix is written. Out-of-band pushes (RESP3 pub/sub, invalidations) take the place they had in the
 * server's stream: after every reply the server sent before them.
 */
import type { Socket } from 'node:net';
import { ByteRuns } from './byte-runs.js';
import { writeToSocket } from '../sync-redis/socket-writes.js';
import { NO_OUTPUT_LIMIT, type OutputLimit } from './output-limit.js';

/** Up to this many bytes, the replies of a tick are copied into one buffer; beyond it, written as they are. */
const COPY_LIMIT = 64 * 1024;
/**
 * Bytes the socket may hold, past what the kernel took, before the client counts as not reading: its input is
 * then no longer read nor its commands sent (client-connection.ts), and the server is no longer read for it
 * while nothing is awaited (UpstreamLink.setClientBacklogged), until the socket drains. Also the budget of the
 * replies a client may have in flight (maySend).
 */
export const CLIENT_BACKLOG_BYTES = 256 * 1024;
/**
 * The reply size assumed of a client before any reply is seen, and the least it is assumed to be afterwards: at
 * most CLIENT_BACKLOG_BYTES / this many commands are sent ahead of their replies (16 at first, 16,384 once
 * replies have been small: fewer made `redis-cli --pipe` wait on round trips, 2 to 4 times slower at 256). Each
 * reply that comes back larger raises the assumption to its size at once; smaller ones lower it by an eighth of
 * the difference.
 */
const FIRST_REPLY_GUESS = 16 * 1024;
const LEAST_REPLY_GUESS = 16;
/**
 * What a client may be owed, not taken, whatever the server's limits, beyond its largest reply: only a guess
 * proved wrong gets there (small replies, then thousands of large ones sent at once), and a client that does not
 * read them is closed rather than let the runtime grow with them. One reply is not counted: redis-server sends a
 * reply of any size whole (an HGETALL of a 72 MB hash was cut), and a reply awaited must be read, since a lock
 * waits for it.
 */
export const CLIENT_OWED_CAP = 64 * 1024 * 1024;

/** Which limit a client went past: the server's hard or soft `normal` limit, or CLIENT_OWED_CAP. */
export type OwedLimit = 'hard' | 'soft' | 'runtime';

export class OutputSlot {
  bytes: Buffer | null = null;
  held = false;
  /** The reply comes from the server (so a push the server sent later belongs after it). */
  readonly fromServer: boolean;
  /** Silenced by CLIENT REPLY OFF/SKIP: it keeps its place but is never written. */
  readonly muted: boolean;

  constructor(fromServer: boolean, muted = false) {
    this.fromServer = fromServer;
    this.muted = muted;
  }
}

export class ClientOutput {
  readonly #socket: Socket;
  #slots: OutputSlot[] = [];
  #head = 0;
  /** Bytes flushed this tick and not yet written (see flush). */
  readonly #runs = new ByteRuns();
  #scheduled = false;
  /** The largest reply filled since the client was last owed nothing. */
  #largestOwed = 0;
  readonly #writeScheduled = (): void => {
    this.#scheduled = false;
    this.writeNow();
  };
  readonly #onBacklog: (backlogged: boolean) => void;
  #backlogged = false;
  readonly #drained = (): void => {
    this.#backlogged = false;
    clearInterval(this.#softCheck);
    this.#onBacklog(false);
  };
  /** Checks the soft limit while the client is backlogged (checkLimit). */
  #softCheck: NodeJS.Timeout | undefined;
  /** The size this client's replies are assumed to have (see FIRST_REPLY_GUESS). */
  #replyGuess = FIRST_REPLY_GUESS;
  readonly #limit: () => OutputLimit;
  readonly #onLimit: (limit: OwedLimit, owed: number) => void;
  /** When the bytes owed first reached the soft limit (performance.now()), or 0 while they are below it. */
  #softSince = 0;

  /**
   * `onBacklog`: the socket holds more than CLIENT_BACKLOG_BYTES (true), and later has drained (false).
   * `limit`: the server's `normal` class limits; `onLimit`: the client went past one (or CLIENT_OWED_CAP), and
   * is to be closed as redis-server closes it (the bytes owed are dropped).
   */
  constructor(
    socket: Socket,
    onBacklog: (backlogged: boolean) => void = () => undefined,
    limit: () => OutputLimit = () => NO_OUTPUT_LIMIT,
    onLimit: (limit: OwedLimit, owed: number) => void = () => undefined,
  ) {
    this.#socket = socket;
    this.#onBacklog = onBacklog;
    this.#limit = limit;
    this.#onLimit = onLimit;
  }

  /** The socket holds more than CLIENT_BACKLOG_BYTES and has not drained since. */
  get backlogged(): boolean {
    return this.#backlogged;
  }

  /** Bytes the client is owed and has not taken: gathered for a write, and held by the socket past the kernel. */
  get owed(): number {
    return this.#runs.bytes + this.#socket.writableLength;
  }

  /**
   * Whether a client with `inFlight` replies awaited may have one more command sent: not while it is backlogged,
   * and only while the bytes owed and those assumed of the replies in flight stay within CLIENT_BACKLOG_BYTES
   * (with none in flight, one may always go).
   */
  maySend(inFlight: number): boolean {
    if (this.#backlogged) return false;
    return inFlight === 0 || this.owed + (inFlight + 1) * this.#replyGuess <= CLIENT_BACKLOG_BYTES;
  }

  /** A slot for the reply of the command being dispatched now. */
  reserve(fromServer: boolean, held = false, muted = false): OutputSlot {
    const slot = new OutputSlot(fromServer, muted);
    slot.held = held;
    this.#slots.push(slot);
    return slot;
  }

  fill(slot: OutputSlot, bytes: Buffer): void {
    this.#largestOwed = Math.max(this.#largestOwed, bytes.length);
    const guess = this.#replyGuess;
    this.#replyGuess = bytes.length >= guess ? bytes.length : Math.max(LEAST_REPLY_GUESS, guess - ((guess - bytes.length) >> 3));
    slot.bytes = bytes;
    if (!slot.held) this.flush();
  }

  release(slot: OutputSlot): void {
    slot.held = false;
    this.flush();
  }

  /** Bytes owed now, after everything owed before (raw pass-through modes). */
  append(bytes: Buffer): void {
    this.#largestOwed = Math.max(this.#largestOwed, bytes.length);
    const slot = new OutputSlot(true);
    slot.bytes = bytes;
    this.#slots.push(slot);
    this.flush();
  }

  /** A push from the server: after every server reply already received, before those still awaited. */
  insertPush(bytes: Buffer): void {
    const slot = new OutputSlot(true);
    slot.bytes = bytes;
    let at = this.#slots.length;
    for (let i = this.#head; i < this.#slots.length; i++) {
      const other = this.#slots[i]!;
      if (other.fromServer && other.bytes === null) {
        at = i;
        break;
      }
    }
    this.#slots.splice(at, 0, slot);
    this.flush();
  }

  /** Nothing reserved is still unwritten. */
  get empty(): boolean {
    return this.#head === this.#slots.length;
  }

  flush(): void {
    let end = this.#head;
    while (end < this.#slots.length) {
      const slot = this.#slots[end]!;
      if (slot.bytes === null || slot.held) break;
      end++;
    }
    if (end === this.#head) return;
    // Replies framed from one chunk of the server's output are filled one by one: gather them until the end of
    // the tick and write them at once (a write per reply, even corked, would dominate the proxy's cost).
    for (let i = this.#head; i < end; i++) {
      const slot = this.#slots[i]!;
      if (slot.muted) continue;
      this.#runs.add(slot.bytes!);
    }
    if (!this.#scheduled && !this.#runs.empty) {
      this.#scheduled = true;
      process.nextTick(this.#writeScheduled);
    }
    this.#head = end;
    if (this.#head === this.#slots.length) {
      this.#slots = [];
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#slots = this.#slots.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Writes what flush gathered, now: before the socket is ended or handed over to a pipe. */
  writeNow(): void {
    if (this.#runs.empty) return;
    if (this.#socket.destroyed) {
      this.#runs.take();
      return;
    }
    if (this.#runs.bytes <= COPY_LIMIT) {
      writeToSocket(this.#socket, this.#runs.takeJoined());
    } else {
      const runs = this.#runs.take();
      if (runs.length === 1) {
        writeToSocket(this.#socket, runs[0]!);
      } else {
        this.#socket.cork();
        for (const run of runs) this.#socket.write(run);
        this.#socket.uncork();
      }
    }
    // Past the high-water mark a write returned false, so 'drain' comes once the socket has written it all.
    if (!this.#backlogged && this.#socket.writableLength > CLIENT_BACKLOG_BYTES) {
      this.#backlogged = true;
      this.#socket.once('drain', this.#drained);
      this.#armSoftCheck();
      this.#onBacklog(true);
    }
    this.checkLimit();
  }

  /**
   * redis-server's checkClientOutputBufferLimits, on what the client has not taken, checked as it checks it when
   * replies are added: past the hard limit at once; past the soft limit once it has stayed past it for longer
   * than the soft seconds.
   */
  checkLimit(): void {
    const owed = this.owed;
    if (owed === 0) this.#largestOwed = 0;
    // One reply, however large, goes whole, as redis-server sends it under `normal 0 0 0`: the cap is on the rest.
    if (owed - this.#largestOwed >= CLIENT_OWED_CAP) return this.#onLimit('runtime', owed);
    const { hard, soft, softSeconds } = this.#limit();
    if (hard === 0 && soft === 0) return;
    if (hard > 0 && owed >= hard) return this.#onLimit('hard', owed);
    if (soft === 0 || owed < soft) {
      this.#softSince = 0;
      return;
    }
    const now = performance.now();
    if (this.#softSince === 0) this.#softSince = now;
    else if (now - this.#softSince > softSeconds * 1000) this.#onLimit('soft', owed);
  }

  /**
   * A backlogged client's input is not read (client-connection.ts), so no reply is added to be checked on: the
   * soft limit is checked as its seconds pass instead, where redis-server, which reads on, would have checked it
   * on the replies to what the client kept sending.
   */
  #armSoftCheck(): void {
    const { soft, softSeconds } = this.#limit();
    if (soft === 0) return;
    this.#softCheck = setInterval(() => {
      if (this.#socket.destroyed) clearInterval(this.#softCheck);
      else this.checkLimit();
    }, Math.max(100, softSeconds * 250));
    this.#softCheck.unref();
  }
}
