/**
 * The fd-wait addon (native/fd-wait): a blocking poll(2) on one descriptor, which Node does not offer. `npm ci`
 * builds it (the package's install script); where it could not be built, `waitReady` is null and the waits fall
 * back to reads that find nothing and growing sleeps (socket-reads.ts). docs/design.md says why it exists.
 */
import { loadAddon } from '../../shared/native-addon.js';

/**
 * Waits until `fd` is readable (or writable), at most `timeoutMs` (fractions too); whether it is. For its first
 * `spinUs` µs (default 0) it polls without sleeping (spin-budget.ts says why and how long).
 */
export type WaitReady = (fd: number, forWrite: boolean, timeoutMs: number, spinUs?: number) => boolean;

export const waitReady: WaitReady | null = loadAddon<{ waitReady: WaitReady }>('fd-wait', 'fd_wait')?.waitReady ?? null;
