/**
 * Keys per second for the backfill: a token bucket holding at most one second of keys, so a page waits just
 * long enough to keep the average at the rate, and a pause (a slow page) is not made up by a burst.
 */
export class RateLimiter {
  readonly #perSecond: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  /** `perSecond` undefined: no limit. */
  constructor(perSecond: number | undefined, clock: { now?: () => number; sleep?: (ms: number) => Promise<void> } = {}) {
    this.#perSecond = perSecond ?? Infinity;
    this.#now = clock.now ?? Date.now;
    this.#sleep = clock.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#tokens = Math.min(this.#perSecond, 1);
    this.#at = this.#now();
  }

  /** Waits until `count` keys may go. */
  async take(count: number): Promise<void> {
    if (this.#perSecond === Infinity) return;
    const now = this.#now();
    this.#tokens = Math.min(this.#perSecond, this.#tokens + ((now - this.#at) / 1000) * this.#perSecond);
    this.#at = now;
    this.#tokens -= count;
    if (this.#tokens < 0) await this.#sleep((-this.#tokens / this.#perSecond) * 1000);
  }
}
