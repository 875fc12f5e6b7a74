import { describe, expect, it } from 'vitest';
import { gridTimeout, TIMEOUT_GRID_MS } from './sandbox.js';

describe('gridTimeout (the lock timeout of one call into an isolate)', () => {
  it('is never shorter than the configured timeout, and at most one grid step longer', () => {
    for (const timeout of [100, 500, 3000]) {
      for (let now = 1000; now < 1200; now += 0.37) {
        const given = gridTimeout(now, timeout);
        expect(Number.isInteger(given)).toBe(true);
        expect(given).toBeGreaterThanOrEqual(timeout);
        expect(given).toBeLessThanOrEqual(timeout + TIMEOUT_GRID_MS);
      }
    }
  });

  it('ends the calls of one grid step within the same millisecond (one wake-up of isolated-vm\'s timer thread)', () => {
    const deadlines = new Set<number>();
    for (let now = 10_000.2; now < 10_000 + TIMEOUT_GRID_MS; now += 0.29) deadlines.add(Math.floor(now + gridTimeout(now, 500)));
    // now + ms lands in [mark, mark + 1): the 50 ms mark at or after now + 500
    expect([...deadlines].every((deadline) => deadline === 10_550)).toBe(true);
  });
});
