/**
 * How long a synchronous wait polls without sleeping before it sleeps in poll(2) (native/fd-wait).
 *
 * A thread asleep in poll(2) is woken by the peer's write, and on a virtual machine that wake-up is an
 * inter-processor interrupt that costs the writer and the sleeper tens of microseconds each: more than a local
 * redis-server takes to answer. Polling for a few tens of microseconds first saves both (measured in
 * docs/runtime.md#a-captured-hset). It pays only while replies come within the polling: on a loaded machine,
 * where they take longer, it would take CPU from redis-server and the worker for nothing. So waits poll while
 * most of them find their bytes within MAX_SPIN_US, and otherwise sleep at once, polling one wait in
 * PROBE_EVERY to find out when replies come fast again.
 */

/** The longest a wait polls before it sleeps, in µs. */
export const MAX_SPIN_US = 60;
/** While waits sleep at once, one in this many polls first, to see whether polling would pay again. */
export const PROBE_EVERY = 16;
/** Weight of the newest polling wait in the hit rate (1/8: a few dozen waits settle it). */
const WEIGHT = 1 / 8;

export class SpinBudget {
  /** Moving share of polling waits whose bytes came within the polling. */
  #hitRate = 1;
  #sinceProbe = 0;

  /** How long the next wait may poll before it sleeps, in µs (0: sleep at once). */
  next(): number {
    if (this.#hitRate >= 0.5) return MAX_SPIN_US;
    if (++this.#sinceProbe < PROBE_EVERY) return 0;
    this.#sinceProbe = 0;
    return MAX_SPIN_US;
  }

  /** A wait that was allowed to poll `spunUs` found its descriptor ready after `waitedUs`. */
  record(spunUs: number, waitedUs: number): void {
    if (spunUs === 0) return;
    this.#hitRate += ((waitedUs <= spunUs ? 1 : 0) - this.#hitRate) * WEIGHT;
  }
}
