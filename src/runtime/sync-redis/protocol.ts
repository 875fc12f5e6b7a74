/**
 * Messages between SyncRedis (main thread) and its worker thread. The worker owns the socket; the main thread
 * blocks on `flag` with Atomics.wait until the worker has posted the replies on the port.
 */
import type { MessagePort } from 'node:worker_threads';

/**
 * Index into the shared Int32Array: a counter the worker increments after posting each reply. The main thread
 * waits for it to move, so a reply it stopped waiting for (an execution terminated by the lock timeout while
 * blocked) can never be mistaken for the next one: replies carry their request's sequence number.
 */
export const FLAG_INDEX = 0;

export interface SyncRedisWorkerData {
  readonly host: string;
  readonly port: number;
  readonly flag: SharedArrayBuffer;
  readonly replyPort: MessagePort;
  /** Optional AUTH (user, password) from the redis URL. */
  readonly auth: readonly string[] | null;
}

/**
 * A batch of commands sent in one round trip (SELECT, MULTI wrapping and the command itself), already encoded
 * as RESP by the main thread: one byte array is the cheapest thing to post, and the worker only writes it.
 */
export interface SyncRedisRequest {
  readonly seq: number;
  /** How many commands `bytes` holds: the worker collects that many replies. */
  readonly count: number;
  readonly bytes: Uint8Array;
}

/** The exact reply bytes of every command of the batch, concatenated, or why the connection failed. */
export type SyncRedisResponse = { readonly seq: number } & ({ readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false; readonly message: string });
