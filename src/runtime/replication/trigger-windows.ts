/**
 * Trigger windows, as replicas through the runtime must see them. On Redis Stack a keyspace trigger's writes
 * replicate inside one MULTI/EXEC with the command that fired it, so a replica holds both or neither. Through the
 * runtime the client's write reaches the replication stream first and the trigger's writes follow on the
 * runtime's own connection; so the replication pipes (server/replication-pipe.ts) hold back the bytes of a window
 * until the window is over, and a primary that dies meanwhile takes them with it.
 *
 * A window is an exclusive hold of the execution lock (execution-lock.ts): it opens before the command that may
 * fire goes upstream and closes once the triggers' calls are answered. At its close the runtime sends `ROLE`;
 * the master_repl_offset in the reply is past every write of the window, and before any write of the next
 * window, which waits for that reply before it starts (the exclusive lock serializes windows). Pipes forward up
 * to the last offset so confirmed, once they have read that far; with no window open or unconfirmed, a pipe that
 * has read that far forwards everything at once.
 *
 * Without a replication pipe none of this runs: no window is tracked and no ROLE is sent.
 */
import type { Logger } from '../../shared/log.js';
import { errorMessage } from '../../shared/errors.js';
import type { RespValue } from '../resp/types.js';
import type { RedisConnection } from '../server/redis-connection.js';
import type { TriggerWindow, WindowGate } from '../server/execution-lock.js';

/** A pipe's view: how far its stream has been read, and a call when the limit moves. */
export interface HeldStream {
  /** The offset of the last command-stream byte read (null: the stream has not started). */
  readonly readOffset: number | null;
  /** The limit moved: forward what it allows. */
  release(): void;
}

/** How long to wait before asking ROLE again after it failed. */
const RETRY_MS = 100;

export class TriggerWindows implements WindowGate {
  readonly #control: RedisConnection;
  readonly #log: Logger;
  readonly #pipes = new Set<HeldStream>();
  #open = 0;
  /** A window closed after the last ROLE was sent. */
  #unconfirmed = false;
  #asking: Promise<void> | null = null;
  /** Pipes forward up to this offset; null: everything. */
  #limit: number | null = null;
  /**
   * Offsets between windows, ascending, the limit last: where a window opened, and each ROLE answer. A ROLE can
   * be answered before a pipe has read the last writes of the window it confirms (the trigger's, from another
   * socket); forwarding up to the limit, that pipe would send the client's write it holds without them. A pipe
   * short of the limit forwards up to the last of these it has read instead. Those no pipe needs are dropped.
   */
  #boundaries: number[] = [];
  /**
   * The limit was confirmed with no window open or unconfirmed: past it are only writes outside any window, which
   * a pipe that has read up to the limit forwards as they come.
   */
  #settled = false;
  /** ROLE was refused for good (refusedForGood): windows cannot be confirmed, so nothing is held. */
  #disabled = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(control: RedisConnection, log: Logger) {
    this.#control = control;
    this.#log = log;
  }

  /** The offset a pipe that has read up to `readOffset` may forward up to (null: no limit). */
  limitFor(readOffset: number | null): number | null {
    const limit = this.#limit;
    if (limit === null || readOffset === null) return limit;
    if (readOffset >= limit) return this.#settled ? null : limit;
    let reached = -1;
    for (const boundary of this.#boundaries) if (boundary <= readOffset) reached = boundary;
    return reached;
  }

  /** A pipe whose stream offsets are known; returns its removal. */
  add(pipe: HeldStream): () => void {
    this.#pipes.add(pipe);
    // A replica resyncing while a window is open, the pipes there were gone (which freed the limit): the backlog
    // it reads may hold the window's client write, so it holds everything until a ROLE confirms the window.
    if (this.#open > 0 && this.#limit === null) this.#bound(-1);
    return () => {
      this.#pipes.delete(pipe);
      if (this.#pipes.size === 0) this.#free();
    };
  }

  open(): TriggerWindow | null {
    if (this.#pipes.size === 0 || this.#disabled) return null;
    // Everything read so far was written before this window: it may go.
    if (this.#limit === null || this.#settled) {
      this.#settled = false;
      this.#bound(Math.max(this.#limit ?? -1, this.#readSoFar()));
      this.#log.trace({ limit: this.#limit }, 'trigger window opens: replicas get bytes up to the limit');
    }
    this.#open++;
    let closed = false;
    return {
      ready: this.#asking,
      close: () => {
        if (closed) return;
        closed = true;
        this.#open--;
        this.#unconfirmed = true;
        this.#ask();
      },
    };
  }

  /** Stops holding (the runtime closes). */
  close(): void {
    clearTimeout(this.#retry);
    this.#pipes.clear();
    this.#free();
  }

  #readSoFar(): number {
    let max = -1;
    for (const pipe of this.#pipes) max = Math.max(max, pipe.readOffset ?? -1);
    return max;
  }

  #ask(): void {
    if (this.#asking !== null || !this.#unconfirmed || this.#pipes.size === 0) return;
    this.#unconfirmed = false;
    this.#log.trace({ open: this.#open }, 'trigger windows closed: ROLE asked');
    const asking = this.#control.send(['ROLE']).then(
      (reply) => this.#confirmed(reply),
      (error: unknown) => this.#failed(errorMessage(error)),
    );
    this.#asking = asking.finally(() => {
      this.#asking = null;
      if (this.#unconfirmed && this.#open === 0) this.#ask();
    });
  }

  #confirmed(reply: RespValue): void {
    const offset = masterOffsetOf(reply);
    this.#log.trace({ offset, open: this.#open, unconfirmed: this.#unconfirmed, limit: this.#limit }, 'ROLE answered');
    if (offset === null) {
      if (reply.type === 'error' && refusedForGood(reply.value)) {
        this.#log.warn({ err: reply.value }, 'ROLE refused: replicas through the runtime may receive a write without its trigger writes');
        this.#disabled = true;
        this.#free();
        return;
      }
      this.#failed(reply.type === 'error' ? reply.value : 'ROLE reply without master_repl_offset');
      return;
    }
    // Not freed even with every window confirmed: a pipe may not have read this far yet (see #boundaries).
    this.#settled = this.#open === 0 && !this.#unconfirmed;
    this.#setLimit(Math.max(this.#limit ?? offset, offset));
  }

  /**
   * The windows stay unconfirmed: ask again shortly (a BUSY server), as no later window may come to ask. Not at
   * once: on a closed connection that would loop. Not while a window is open either: its client's write may be
   * in the offset ROLE answers and its triggers' writes not yet, and the limit would release the one without the
   * others; that window's close asks instead.
   */
  #failed(reason: string): void {
    this.#log.debug({ err: reason }, 'ROLE failed; trigger window bytes held for replicas');
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => {
      this.#unconfirmed = true;
      if (this.#open === 0) this.#ask();
    }, RETRY_MS);
    this.#retry.unref();
  }

  #free(): void {
    this.#settled = false;
    this.#setLimit(null);
  }

  #setLimit(limit: number | null): void {
    if (limit === null) {
      this.#limit = null;
      this.#boundaries = [];
    } else {
      this.#bound(limit);
    }
    for (const pipe of this.#pipes) pipe.release();
  }

  /** `offset`, between windows, is the new limit. */
  #bound(offset: number): void {
    this.#limit = offset;
    if (offset > (this.#boundaries.at(-1) ?? -1)) this.#boundaries.push(offset);
    let slowest = Infinity;
    for (const pipe of this.#pipes) slowest = Math.min(slowest, pipe.readOffset ?? -1);
    while (this.#boundaries.length > 1 && this.#boundaries[1]! <= slowest) this.#boundaries.shift();
  }
}

/**
 * A ROLE error that asking again will not change: the user may not run it (NOPERM), or the server has none
 * (`rename-command ROLE ""`). Retried, such a window would hold the replicas' bytes for good.
 */
function refusedForGood(error: string): boolean {
  return error.startsWith('NOPERM') || /^ERR unknown command/i.test(error);
}

/** master_repl_offset from a ROLE reply: a primary's second element, a replica's fifth. */
function masterOffsetOf(reply: RespValue): number | null {
  if (reply.type !== 'array') return null;
  const role = reply.value[0];
  const name = role?.type === 'blob' ? role.value.toString('latin1') : role?.type === 'simple' ? role.value : '';
  const field = reply.value[name === 'master' ? 1 : 4];
  return field?.type === 'integer' ? Number(field.value) : null;
}
