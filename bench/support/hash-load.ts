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

/**
 * Issues `count` writes as fast as the server answers, `window` at a time; returns the elapsed seconds.
 * `onProgress` sees the number completed.
 */
export async function writeAsFastAsPossible(client: RedisClientType, count: number, write: HashWrite, onProgress: (done: number) => void = () => {}, window = PIPELINE_WINDOW): Promise<number> {
  let next = 0;
  let done = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < count) {
      const i = next++;
      await write(client, i);
      done++;
      if (done % 1000 === 0) onProgress(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, lane));
  onProgress(done);
  return (performance.now() - started) / 1000;
}

export interface PacedLoadResult {
  /** Writes issued. */
  readonly issued: number;
  /** Writes per second actually achieved (issued over the run's time). */
  readonly achievedRate: number;
  /** Writes whose reply had not arrived when the run ended (the server fell behind). */
  readonly outstandingAtEnd: number;
}

/**
 * Issues writes at `rate` per second for `seconds`, in 5 ms ticks (each tick catches up on what the schedule
 * asks for, so a late timer does not lower the rate). Replies are not waited for before the next tick.
 */
export async function writeAtRate(client: RedisClientType, rate: number, seconds: number, write: HashWrite): Promise<PacedLoadResult> {
  const started = performance.now();
  const total = Math.round(rate * seconds);
  let issued = 0;
  let answered = 0;
  const inFlight = new Set<Promise<unknown>>();
  while (issued < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    while (issued < due) {
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
