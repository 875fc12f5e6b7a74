import { describe, expect, it } from 'vitest';
import { nextPageSize } from './backfill.js';

describe('nextPageSize', () => {
  it('sizes pages to about 20 ms of library time, growing at most twofold a call', () => {
    expect(nextPageSize(25, 30, 1000)).toBe(16); // ~1.2 ms a key (the local runtime)
    expect(nextPageSize(25, 1, 1000)).toBe(50); // fast (Redis Stack): doubles
    expect(nextPageSize(800, 2, 1000)).toBe(1000); // never above the function's 1000 keys
    expect(nextPageSize(400, 1000, 1000)).toBe(8); // slow: shrinks at once
    expect(nextPageSize(25, 1, 10)).toBe(10); // --rate 10: a second of keys at most
  });
});
