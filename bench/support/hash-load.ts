/**
 * Load generators over one node-redis client. node-redis pipelines every command issued before the previous
 * replies arrive, so a window of outstanding commands is the pipelining: the same window is used against the
 * runtime and against redis-server directly, which is what makes the overhead figure a fair comparison.
 */
import type { RedisClientType } from 'redis';
import { sleep } from './sleep.js';

/** Commands in flight at once. */
export const PIPELINE_WINDOW = 256;

export type HashWrite = (client: RedisClientType, i: number) => Promise<unknown>;

export interface BurstResult {
  /** Writes completed (all of `count`, unless the time budget ran out first). */
  readonly done: number;
  readonly seconds: number;
}

/**
 * Issues up to `count` writes as fast as the server answers, `window` at a time, and stops issuing once
 * `budgetSeconds` have passed (the local runtime can be far slower than redis-server; a time budget keeps the
 * run bounded). `onProgress` sees the number completed.
 */
export async function writeAsFastAsPossible(client: RedisClientType, count: number, write: HashWrite, options: { budgetSeconds?: number; onProgress?: (done: number) => void; window?: number } = {}): Promise<BurstResult> {
  const { budgetSeconds = Number.POSITIVE_INFINITY, onProgress = () => {}, window = PIPELINE_WINDOW } = options;
  let next = 0;
  let done = 0;
  const started = performance.now();
  const deadline = started + budgetSeconds * 1000;
  const lane = async () => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      await write(client, i);
      done++;
      if (done % 500 === 0) onProgress(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, lane));
  onProgress(done);
  return { done, seconds: (performance.now() - started) / 1000 };
}

export interface PacedLoadResult {
  /** Writes issued. */
  readonly issued: number;
  /** Writes per second actually achieved (issued over the run's time). */
  readonly achievedRate: number;
  /** Writes whose reply had not arrived when the run ended (the server fell behind). */
  readonly outstandingAtEnd: number;
}

/** Most writes a paced run lets wait for their replies, in seconds of its rate: beyond it the server is behind. */
const MAX_OUTSTANDING_SECONDS = 1;

/**
 * Issues writes at `rate` per second for `seconds`, in 5 ms ticks (each tick catches up on what the schedule
 * asks for, so a late timer does not lower the rate). Replies are not waited for before the next tick, but
 * when a second's worth of writes is unanswered the schedule is not caught up: the achieved rate then shows
 * that the server could not keep up, and the backlog a too-high rate leaves stays bounded.
 */
export async function writeAtRate(client: RedisClientType, rate: number, seconds: number, write: HashWrite): Promise<PacedLoadResult> {
  const started = performance.now();
  const total = Math.round(rate * seconds);
  let issued = 0;
  let answered = 0;
  const inFlight = new Set<Promise<unknown>>();
  const maxOutstanding = Math.max(1, Math.round(rate * MAX_OUTSTANDING_SECONDS));
  const end = started + seconds * 1000;
  while (issued < total && performance.now() < end) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    while (issued < due && issued - answered < maxOutstanding) {
      const p = write(client, issued++).finally(() => {
        answered++;
        inFlight.delete(p);
      });
      inFlight.add(p);
    }
    await sleep(5);
  }
  const elapsed = (performance.now() - started) / 1000;
  const outstandingAtEnd = issued - answered;
  await Promise.all(inFlight);
  return { issued, achievedRate: issued / elapsed, outstandingAtEnd };
}
