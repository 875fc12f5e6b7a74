import { describe, expect, it } from 'vitest';
import { MAX_SPIN_US, PROBE_EVERY, SpinBudget } from './spin-budget.js';

/** Feeds `count` waits that found their bytes after `waitedUs` (Infinity: not within the wait). */
function feed(budget: SpinBudget, count: number, waitedUs: number): number[] {
  const spins: number[] = [];
  for (let i = 0; i < count; i++) {
    const spin = budget.next();
    spins.push(spin);
    budget.record(spin, waitedUs);
  }
  return spins;
}

describe('SpinBudget', () => {
  it('polls for the whole budget while replies come within it', () => {
    const budget = new SpinBudget();
    expect(feed(budget, 100, 30)).toEqual(Array(100).fill(MAX_SPIN_US));
  });

  it('sleeps at once when most replies come later than the budget, polling only one wait in PROBE_EVERY', () => {
    const budget = new SpinBudget();
    const spins = feed(budget, 200, 500);
    const tail = spins.slice(100);
    const probes = tail.filter((spin) => spin > 0).length;
    expect(probes).toBeGreaterThanOrEqual(Math.floor(100 / PROBE_EVERY));
    expect(probes).toBeLessThanOrEqual(Math.ceil(100 / PROBE_EVERY));
    expect(tail.filter((spin) => spin === 0).length).toBeGreaterThan(90);
  });

  it('polls again once the probes find replies within the budget', () => {
    const budget = new SpinBudget();
    feed(budget, 200, 500);
    const spins = feed(budget, 400, 10); // only the probes see it: about six of them turn the rate
    expect(spins.slice(-50)).toEqual(Array(50).fill(MAX_SPIN_US));
  });

  it('keeps polling through an occasional slow reply', () => {
    const budget = new SpinBudget();
    const spins: number[] = [];
    for (let i = 0; i < 200; i++) spins.push(...feed(budget, 1, i % 4 === 0 ? 5000 : 20));
    expect(spins.every((spin) => spin === MAX_SPIN_US)).toBe(true);
  });
});
