/**
 * The periodic progress line of a long run (at most one a second, and one at the end), for a person watching:
 * `backfill PersonsWriteBehind: scanned 120000 key(s), captured 119800, 2950 keys/s`.
 */
export class ProgressLine {
  readonly #print: (line: string) => void;
  readonly #everyMs: number;
  #last = 0;

  constructor(print: (line: string) => void, everyMs = 1000) {
    this.#print = print;
    this.#everyMs = everyMs;
  }

  /** Prints `line()` when the last print is older than the interval (or `force`). */
  update(line: () => string, force = false): void {
    const now = Date.now();
    if (!force && now - this.#last < this.#everyMs) return;
    this.#last = now;
    this.#print(line());
  }
}

/** Keys per second over `ms`, rounded. */
export function perSecond(count: number, ms: number): number {
  return ms <= 0 ? 0 : Math.round((count * 1000) / ms);
}
