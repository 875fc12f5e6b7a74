/**
 * Synchronous reads from a socket's file descriptor, for the runtime's paths that must not wait for an
 * event-loop turn: the library host's connection (whose reads are all synchronous) and, briefly, sockets libuv
 * also reads (SocketPump). A local redis-server answers within tens of microseconds, so a wait spins a few
 * reads and then sleeps in growing steps.
 */
import type { Socket } from 'node:net';
import { readSync } from 'node:fs';
import { RedisCommandError } from '../../shared/errors.js';

/** Reads tried back to back before the wait starts sleeping between reads. */
const SPIN_READS = 20;
/** The sleeps between reads grow from the first to the last (ms): short replies stay fast, slow ones cost no CPU. */
const FIRST_SLEEP_MS = 0.02;
const LONGEST_SLEEP_MS = 2;
export const READ_CHUNK = 64 * 1024;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * The socket's file descriptor, taken from its libuv handle: Node has no public API for it. Node 20 on Linux and
 * macOS exposes `fd` on TCP and pipe handles; the runtime refuses to start where it does not.
 */
export function socketDescriptor(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    socket.destroy();
    throw new RedisCommandError("the runtime needs a socket's file descriptor, which this Node version does not expose");
  }
  return fd;
}

/**
 * Bytes read into `into`; -1 when nothing is there yet (EAGAIN). Other failures throw (without a stack trace:
 * most reads of a wait find nothing, and capturing a stack for each EAGAIN doubled their cost).
 */
export function readNow(fd: number, into: Buffer): number {
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return readSync(fd, into, 0, into.length, null);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return -1;
    throw error;
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/** Between two empty reads: nothing for the first SPIN_READS, then growing sleeps. */
export function pauseAfterEmptyReads(idle: number): void {
  if (idle < SPIN_READS) return;
  Atomics.wait(sleeper, 0, 0, Math.min(FIRST_SLEEP_MS * 2 ** Math.floor((idle - SPIN_READS) / 10), LONGEST_SLEEP_MS));
}

/**
 * Reads, on a socket libuv also reads, what has already arrived or arrives within `budgetMs`, without waiting
 * for the event loop. libuv reads only between JavaScript turns and its epoll is level-triggered, so every
 * byte reaches `push` once and in order, by one path or the other.
 */
export class SocketPump {
  readonly #fd: number;
  readonly #push: (chunk: Buffer) => void;
  readonly #scratch = Buffer.allocUnsafeSlow(READ_CHUNK);

  constructor(socket: Socket, push: (chunk: Buffer) => void) {
    this.#fd = socketDescriptor(socket);
    this.#push = push;
  }

  /** Reads until `done()` holds or `budgetMs` passed; a closed or failed socket is left to libuv to report. */
  until(done: () => boolean, budgetMs: number): void {
    const deadline = performance.now() + budgetMs;
    let idle = 0;
    while (!done()) {
      let read: number;
      try {
        read = readNow(this.#fd, this.#scratch);
      } catch {
        return;
      }
      if (read === 0) return;
      if (read > 0) {
        // The consumer may keep a partial frame's bytes: give it a copy, the scratch buffer is reused.
        this.#push(Buffer.from(this.#scratch.subarray(0, read)));
        idle = 0;
        continue;
      }
      if (performance.now() > deadline) return;
      pauseAfterEmptyReads(idle++);
    }
  }
}
