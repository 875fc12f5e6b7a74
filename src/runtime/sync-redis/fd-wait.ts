/**
 * The fd-wait addon (native/fd-wait): a blocking poll(2) on one descriptor and a blocking connect, which Node does
 * not offer. `npm ci` builds it (the package's install script); where it could not be built, both are null: the
 * waits fall back to reads that find nothing and growing sleeps (socket-reads.ts), and a closed sync connection is
 * opened again in the background (sync-redis.ts). docs/design.md says why it exists.
 */
import { loadAddon } from '../../shared/native-addon.js';

/**
 * Waits until `fd` is readable (or writable), at most `timeoutMs` (fractions too); whether it is. For its first
 * `spinUs` µs (default 0) it polls without sleeping (spin-budget.ts says why and how long).
 */
export type WaitReady = (fd: number, forWrite: boolean, timeoutMs: number, spinUs?: number) => boolean;

const addon = loadAddon<{ waitReady: WaitReady; connectNow: ConnectNow }>('fd-wait', 'fd_wait');

export const waitReady: WaitReady | null = addon?.waitReady ?? null;

/**
 * Connects a non-blocking stream socket to the Unix socket at `path` (when not empty) or to host:port, within
 * `timeoutMs`, blocking the thread; its descriptor, which the caller closes. Throws an Error whose code is the
 * errno's name (ETIMEDOUT when the time is up, ENOTFOUND when the host does not resolve).
 */
export type ConnectNow = (host: string, port: number, path: string, timeoutMs: number) => number;

export const connectNow: ConnectNow | null = addon?.connectNow ?? null;
