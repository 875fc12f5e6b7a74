/**
 * Vitest ends a test process with SIGTERM (after a hook timed out, for one), and Node's default for SIGTERM skips
 * 'exit' listeners: the servers and runtimes a file started (killOnExit, bench/support/kill-on-exit.ts) would
 * outlive it and take the CPU of every later run. Exiting runs those listeners.
 */
process.once('SIGTERM', () => process.exit(143));
