/**
 * The Redis calls library code makes, counted for the server (which settles their effects only when the count
 * moved), and run on the host's shared connection with the server's ordering marker riding behind each call
 * whose events a trigger could care about.
 *
 * Why ride: the server must know every keyspace event of a library window before the command that opened it gets
 * its reply. A marker published once the window is over costs a round trip of its own on every captured write;
 * a `PUBLISH <marker>` pipelined behind each such call costs the server a few microseconds and no round trip,
 * and the last one behind a window's last eventful call closes the window just as well.
 */
import type { KeyspaceEvent, MarkerSource } from '../gears-host.js';
import type { RespValue } from '../resp/types.js';
import type { CommandArgument, SyncRedis } from '../sync-redis/sync-redis.js';
import type { StreamAppends } from './stream-appends.js';
import { ReadAhead } from './read-ahead.js';

/** The markers ridden since the last take, and whether they cover every eventful call. */
export interface RiddenMarkers {
  readonly events: readonly Promise<KeyspaceEvent[]>[];
  /** False when an eventful call ran where no marker could ride (another connection): the server publishes one. */
  readonly complete: boolean;
}

export class LibraryCalls {
  readonly #redis: SyncRedis;
  readonly #concernsTriggers: (argv: readonly Buffer[]) => boolean;
  readonly #appends: StreamAppends;
  /** The server's read ahead of a window's first call (see read-ahead.ts). */
  readonly readAhead = new ReadAhead();
  #source: MarkerSource | null = null;
  #count = 0;
  #clusterDown = 0;
  #lastEventful = 0;
  #ridden: Promise<KeyspaceEvent[]>[] = [];
  #complete = true;
  /** A marker rode behind an eventful call since the last take (the read ahead's own marker does not count). */
  #rode = false;
  /** The marker that will cover the eventful calls after the first one of the window, opened and not yet sent. */
  #owed: ReturnType<MarkerSource['open']> | null = null;

  constructor(redis: SyncRedis, concernsTriggers: (argv: readonly Buffer[]) => boolean, appends: StreamAppends) {
    this.#redis = redis;
    this.#concernsTriggers = concernsTriggers;
    this.#appends = appends;
  }

  /** The server's markers; until it is set, every eventful call leaves the marker to the server. */
  useMarkers(source: MarkerSource): void {
    this.#source = source;
  }

  get count(): number {
    return this.#count;
  }

  /** Calls the server refused with CLUSTERDOWN so far (monotonic): a trigger window the cluster state cut. */
  get clusterDownReplies(): number {
    return this.#clusterDown;
  }

  /** The count of the last call whose events a trigger could care about. */
  get lastEventful(): number {
    return this.#lastEventful;
  }

  /**
   * Runs `commands` (one library call, `argv`; a blocking one arrives wrapped in MULTI/EXEC) on the shared
   * connection in `db` and returns their replies.
   */
  runShared(argv: readonly Buffer[], commands: readonly (readonly CommandArgument[])[], db: number): RespValue[] {
    const ahead = this.readAhead.take(argv, db);
    if (ahead !== null) {
      // Sent behind the client's write, with a marker of its own behind it: that marker rides for this call.
      this.#counted(argv);
      this.#ridden.push(ahead.events);
      return [ahead.reply];
    }
    const replies = this.#counted(argv) && this.#mustRide() ? this.#runMarked(commands, db) : this.#redis.batch(commands, db);
    if (commands.length === 1) this.#appends.note(argv, replies[0]!, db);
    for (const reply of replies) if (reply.type === 'error' && reply.value.startsWith('CLUSTERDOWN')) this.#clusterDown += 1;
    return replies;
  }

  /** Counts a call made on another connection; `argv` null: its keys (and so its events) are unknown. */
  countElsewhere(argv: readonly Buffer[] | null): void {
    this.readAhead.take(argv ?? [], -1);
    if (this.#counted(argv)) this.#complete = false;
  }

  /** The markers ridden since the last take. */
  takeMarkers(): RiddenMarkers {
    this.#publishOwed();
    const taken = { events: this.#ridden, complete: this.#complete };
    this.#ridden = [];
    this.#complete = true;
    this.#rode = false;
    return taken;
  }

  /**
   * Whether an eventful call takes a marker behind it. The window's first one does (a window with one eventful
   * call, a captured write's, costs no round trip of its own); after it, one marker sent when the window is
   * taken covers every later call, so they ride none: a `committed_many` of 100 logs, each trimming its watched
   * capture stream, costs 2 markers and a round trip instead of 100 markers.
   */
  #mustRide(): boolean {
    if (!this.#rode || this.#source === null) return true;
    // Opened now, so that the events of the calls it covers are awaited (claimed) as they arrive; published at
    // the take, behind the last of them on this connection.
    this.#owed ??= this.#source.open();
    return false;
  }

  /** Publishes the marker owed to the window's later eventful calls (one round trip on the shared connection). */
  #publishOwed(): void {
    const owed = this.#owed;
    if (owed === null) return;
    this.#owed = null;
    let reply: RespValue;
    try {
      reply = this.#redis.call(owed.command);
    } catch (error) {
      owed.cancel();
      this.#complete = false;
      throw error;
    }
    if (reply.type === 'error') {
      owed.cancel();
      this.#complete = false;
    } else {
      this.#ridden.push(owed.events);
    }
  }

  /** Runs the commands of an eventful call with a marker behind them, when the server gave a source. */
  #runMarked(commands: readonly (readonly CommandArgument[])[], db: number): RespValue[] {
    if (this.#source === null) {
      this.#complete = false;
      return this.#redis.batch(commands, db);
    }
    const marker = this.#source.open();
    let replies: RespValue[];
    try {
      replies = this.#redis.batch([...commands, marker.command], db);
    } catch (error) {
      marker.cancel();
      this.#complete = false;
      throw error;
    }
    if (replies.pop()?.type === 'error') {
      marker.cancel();
      this.#complete = false;
    } else {
      this.#ridden.push(marker.events);
      this.#rode = true;
    }
    return replies;
  }

  /** Counts one call; true when its events may concern a trigger. */
  #counted(argv: readonly Buffer[] | null): boolean {
    this.#count += 1;
    if (argv !== null && !this.#concernsTriggers(argv)) return false;
    this.#lastEventful = this.#count;
    return true;
  }
}
