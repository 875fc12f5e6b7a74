/**
 * How long-running commands (worker, start, runtime) stop. They call shutdownSignal() before they start, wait for the
 * signal once started, then close within STOP_DEADLINE_MS and return, so main() ends the process with exit code 0.
 *
 * Signals are heard from before the start: one during start-up lets the start finish and then stops as usual,
 * instead of Node's default action killing the process mid-start (a worker could die between a batch's MySQL
 * COMMIT and its acknowledgement in Redis, and the batch would be applied again). A start cannot hold that
 * signal for long: each of its steps gives up on a Redis or MySQL that does not answer within seconds.
 *
 * Two ways out skip main(): a second signal while closing, and a close that outlives its deadline (MySQL or
 * Redis not answering). Both end the process at once with process.exit, because returning to main() would
 * still wait on whatever hangs. Nothing is lost either way: a batch in flight stays pending in Redis and the
 * next worker replays it, as after a SIGKILL.
 */
import type { Logger } from '../../shared/log.js';

/** The worker lets its batch in flight finish for 5 s (less when Redis is down), then closes its connections. */
export const STOP_DEADLINE_MS = 10_000;

/** Resolves on the first SIGINT or SIGTERM; a second one ends the process at once (exit 128 + signal number, as shells report it). */
export function shutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const again = (second: NodeJS.Signals) => {
        process.stderr.write(`${second} again: stopping at once (batches in flight stay pending for the next worker)\n`);
        process.exit(128 + (second === 'SIGINT' ? 2 : 15));
      };
      process.once('SIGINT', again);
      process.once('SIGTERM', again);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** Runs `close`; if it has not finished after `deadlineMs`, logs why and ends the process with exit code 1. */
export async function closeWithin(close: () => Promise<void>, log: Logger, deadlineMs = STOP_DEADLINE_MS): Promise<void> {
  const timer = setTimeout(() => {
    log.error({ deadlineMs }, 'did not stop in time (MySQL or Redis not answering): exiting; batches in flight stay pending for the next worker');
    process.exit(1);
  }, deadlineMs);
  try {
    await close();
  } finally {
    clearTimeout(timer);
  }
}
