import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.js';

function fakeClock() {
  let now = 0;
  const slept: number[] = [];
  return { slept, clock: { now: () => now, sleep: async (ms: number) => { slept.push(ms); now += ms; } } };
}

describe('RateLimiter', () => {
  it('keeps the average at the rate: 1000 keys at 100/s take about 10 s', async () => {
    const { slept, clock } = fakeClock();
    const limiter = new RateLimiter(100, clock);
    for (let i = 0; i < 10; i++) await limiter.take(100);
    const total = slept.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(9_500);
    expect(total).toBeLessThan(10_500);
  });

  it('never waits without a rate', async () => {
    const { slept, clock } = fakeClock();
    const limiter = new RateLimiter(undefined, clock);
    await limiter.take(1_000_000);
    expect(slept).toEqual([]);
  });
});
