/**
 * Whether the runtime reads a client's input. Not while a reason holds it back, so that the kernel's buffers fill
 * and TCP holds the client back: it takes less than it is owed (`backlog`, client-output.ts), or too many of its
 * commands wait to be sent (`queue`). Either way a client that pipelines without reading cannot make the runtime
 * hold its commands or their replies without bound.
 */
import type { Socket } from 'node:net';

/**
 * Commands read and not yet sent, past which the client's input is not read until half of them are: the pump
 * sends no further than its replies allow (ClientOutput.maySend), and what a client pipelines meanwhile would
 * otherwise wait in the runtime's memory without bound (and shifting a queue of 100,000s costs time quadratic).
 */
export const QUEUED_COMMANDS_MAX = 8192;

export type HoldReason = 'backlog' | 'queue';

export class InputGate {
  readonly #socket: Socket;
  /** The socket is no longer the gate's to pause or resume (closed, or handed over as a replication pipe). */
  readonly #released: () => boolean;
  readonly #held: Record<HoldReason, boolean> = { backlog: false, queue: false };

  constructor(socket: Socket, released: () => boolean) {
    this.#socket = socket;
    this.#released = released;
  }

  /** Stops or resumes reading for `reason`: the input is read while no reason holds it. */
  hold(reason: HoldReason, held: boolean): void {
    const before = this.#held.backlog || this.#held.queue;
    this.#held[reason] = held;
    const after = this.#held.backlog || this.#held.queue;
    if (before === after || this.#released()) return;
    if (after) this.#socket.pause();
    else this.#socket.resume();
  }

  /** `waiting` commands are read and not yet sent: held at QUEUED_COMMANDS_MAX, read again at half of it. */
  queued(waiting: number): void {
    if (waiting >= QUEUED_COMMANDS_MAX && !this.#held.queue) this.hold('queue', true);
    else if (this.#held.queue && waiting <= QUEUED_COMMANDS_MAX / 2) this.hold('queue', false);
  }
}
