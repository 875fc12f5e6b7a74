/**
 * Synchronous reads from a socket's file descriptor, for the runtime's paths that must not wait for an
 * event-loop turn: the library host's connection (whose reads are all synchronous) and, briefly, sockets libuv
 * also reads (SocketPump). A local redis-server answers within tens of microseconds. With the fd-wait addon a
 * wait polls for up to the spin budget (spin-budget.ts) and then sleeps in poll(2) until the bytes come;
 * without it, a wait spins a few reads and then sleeps in growing steps.
 */
import type { Socket } from 'node:net';
import { readSync } from 'node:fs';
import { RedisCommandError } from '../../shared/errors.js';
import { waitReady, type WaitReady } from './fd-wait.js';
import { SpinBudget } from './spin-budget.js';

/** Reads tried back to back before the wait starts sleeping between reads (no addon). */
const SPIN_READS = 20;
/** The sleeps between reads grow from the first to the last (ms): short replies stay fast, slow ones cost no CPU. */
const FIRST_SLEEP_MS = 0.02;
/** The longest sleep, and the longest single poll: a long wait re-checks its deadline at least this often. */
const LONGEST_SLEEP_MS = 2;
export const READ_CHUNK = 64 * 1024;

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** One budget for every wait of the process: they all wait on the same redis-server from the same thread. */
const spinBudget = new SpinBudget();

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
 * without the addon most reads of a wait find nothing, and capturing a stack for each EAGAIN doubled their cost).
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

/**
 * Reads what `fd` has, waiting for it until `deadline` (a performance.now() time): bytes read into `into`, 0 at
 * the end of the stream, -1 when nothing came by then. Tries at least once, whatever the deadline.
 */
export function readWithin(fd: number, into: Buffer, deadline: number, wait: WaitReady | null = waitReady, budget = spinBudget): number {
  return wait === null ? readSpinning(fd, into, deadline) : readPolling(fd, into, deadline, wait, budget);
}

/** After a write that `fd` did not take (EAGAIN, the `idle`-th in a row): a while for it to take more. */
export function waitWritable(fd: number, idle: number, wait: WaitReady | null = waitReady): void {
  if (wait === null) pauseAfterEmptyReads(idle);
  else wait(fd, true, LONGEST_SLEEP_MS);
}

/**
 * Each read preceded by a poll: no read finds nothing, and the wait is woken by the bytes themselves. The first
 * poll may spin for the budget's time; how long it took tells the budget whether spinning pays.
 */
function readPolling(fd: number, into: Buffer, deadline: number, wait: WaitReady, budget: SpinBudget): number {
  let spinUs = budget.next();
  for (;;) {
    const started = performance.now();
    const left = deadline - started;
    const timeoutMs = Math.min(Math.max(left, 0), LONGEST_SLEEP_MS);
    // A wait with less time left than the budget (a last look) neither spins nor tells the budget anything.
    const spin = timeoutMs * 1000 >= spinUs ? spinUs : 0;
    spinUs = 0;
    const ready = wait(fd, false, timeoutMs, spin);
    if (spin > 0) budget.record(spin, ready ? (performance.now() - started) * 1000 : Infinity);
    if (ready) {
      const read = readNow(fd, into);
      if (read !== -1) return read;
    } else if (left <= 0) {
      return -1;
    }
  }
}

function readSpinning(fd: number, into: Buffer, deadline: number): number {
  for (let idle = 0; ; idle++) {
    const read = readNow(fd, into);
    if (read !== -1) return read;
    if (performance.now() > deadline) return -1;
    pauseAfterEmptyReads(idle);
  }
}

/** Between two empty reads: nothing for the first SPIN_READS, then growing sleeps. */
function pauseAfterEmptyReads(idle: number): void {
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
    while (!done()) {
      let read: number;
      try {
        read = readWithin(this.#fd, this.#scratch, deadline);
      } catch {
        return;
      }
      if (read <= 0) return;
      // The consumer may keep a partial frame's bytes: give it a copy, the scratch buffer is reused.
      this.#push(Buffer.from(this.#scratch.subarray(0, read)));
    }
  }
}
