/**
 * Read-ahead: the first Redis call a keyspace trigger makes after a client's write is, for most libraries, a
 * read of the key just written (the write-behind capture starts with `HMGET <key> <fields…>`). Made by library
 * code it costs a round trip of its own, one of the three a captured write pays. The server can send it instead
 * right behind the write, on the client's own connection, in the same round trip, and hand its reply to the
 * first library call if that call turns out to be exactly this read in the same database.
 *
 * Why the reply is the one the call would have got: the read runs right after the write, under the exclusive
 * lock, and is only used by the window's *first* library call, so nothing the runtime runs comes between them
 * (another trigger that wrote first would have made the first call, and a call that does not match discards the
 * read-ahead). The read's own keyspace events (a `keymiss` when the write left no key) are the library's, as
 * they would be when the call made the read: the server settles them in the library window.
 *
 * What is read ahead is learnt: per trigger prefix, the first call of the last window, when it was a read of the
 * written key alone by a command whose reply is the same in RESP2 and RESP3 (the client's connection speaks
 * either). A window whose first call is anything else forgets the prefix's read, so a library that stops
 * matching costs at most one wasted read.
 */
import type { KeyspaceEvent } from '../gears-host.js';
import type { RespValue } from '../resp/types.js';

/** Reads of one key whose replies decode alike in RESP2 and RESP3, with the key as the first argument. */
const SINGLE_KEY_READS = new Set(['hmget', 'hget', 'hexists', 'hlen', 'hstrlen', 'get', 'strlen', 'exists', 'type']);

export interface ReadAheadReply {
  readonly reply: RespValue;
  /** The read's keyspace events, closed by the marker that rode behind it. */
  readonly events: Promise<KeyspaceEvent[]>;
}

export class ReadAhead {
  /** Per trigger prefix: the first call's arguments, with the key at index 1. */
  readonly #templates = new Map<string, readonly Buffer[]>();
  /** The window's first call is still to come: it teaches this prefix what to read. */
  #learning: { readonly prefix: string; readonly key: Buffer } | null = null;
  /** The read sent ahead, once its reply is in, until a call takes it or the window closes. */
  #offered: (ReadAheadReply & { readonly argv: readonly Buffer[]; readonly db: number }) | null = null;
  /** The events of a read ahead that the first call did not take. */
  #untaken: Promise<KeyspaceEvent[]> | null = null;

  /**
   * Opens a window for a client write to `key` under trigger prefix `prefix`, and returns the read to send
   * ahead (null: none learnt yet).
   */
  open(prefix: string, key: Buffer): Buffer[] | null {
    this.close();
    this.#learning = { prefix, key };
    const template = this.#templates.get(prefix);
    if (template === undefined) return null;
    const argv = [...template];
    argv[1] = key;
    return argv;
  }

  /** The read sent ahead came back (errors are not offered: the call then runs and gets its own). */
  offer(argv: readonly Buffer[], db: number, reply: RespValue, events: Promise<KeyspaceEvent[]>): void {
    if (reply.type === 'error') this.#untaken = events;
    else this.#offered = { argv, db, reply, events };
  }

  /**
   * Called for every library call: the first one of a window takes the read ahead when it is that read, and
   * teaches the window's prefix what to read next time.
   */
  take(argv: readonly Buffer[], db: number): ReadAheadReply | null {
    if (this.#learning !== null) {
      this.#learn(this.#learning, argv);
      this.#learning = null;
    }
    const offered = this.#offered;
    if (offered === null) return null;
    this.#offered = null;
    if (offered.db === db && sameArguments(offered.argv, argv)) return offered;
    this.#untaken = offered.events;
    return null;
  }

  /**
   * Closes the window: the events of a read ahead nobody took (the server settles them as library work, which
   * the read stands in for), else null.
   */
  close(): Promise<KeyspaceEvent[]> | null {
    const untaken = this.#offered?.events ?? this.#untaken;
    this.#learning = null;
    this.#offered = null;
    this.#untaken = null;
    return untaken;
  }

  #learn(window: { readonly prefix: string; readonly key: Buffer }, argv: readonly Buffer[]): void {
    const name = argv[0]?.toString('latin1').toLowerCase() ?? '';
    if (SINGLE_KEY_READS.has(name) && argv.length >= 2 && argv[1]!.equals(window.key) && (name !== 'exists' || argv.length === 2)) {
      this.#templates.set(window.prefix, argv);
    } else {
      this.#templates.delete(window.prefix);
    }
  }
}

function sameArguments(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (!a[i]!.equals(b[i]!)) return false;
  return true;
}
