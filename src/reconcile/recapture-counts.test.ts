import { describe, expect, it } from 'vitest';
import { addCounts } from './reconcile-redis.js';
import { recaptureCountsOf } from './recapture-counts.js';
import { zeroCounts } from '../shared/protocol.js';

describe('the counts a library call replies', () => {
  it('of a library deployed before a count existed (no kept, notHash, deadLettered) add up to numbers, the missing ones 0', () => {
    const total = zeroCounts();
    addCounts(total, recaptureCountsOf('{"captured":3,"skipped":1}'));
    addCounts(total, recaptureCountsOf('{"captured":2,"skipped":0,"kept":4,"notHash":1,"deadLettered":2}'));
    expect(total).toEqual({ captured: 5, skipped: 1, kept: 4, notHash: 1, deadLettered: 2 });
  });

  it('that are not counts fail, quoting the reply', () => {
    expect(() => recaptureCountsOf('OK')).toThrow(/replied "OK", not the counts .*: not JSON/);
    expect(() => recaptureCountsOf('{"captured":"3","skipped":0}')).toThrow(/not the counts .*: captured: /);
    expect(() => recaptureCountsOf('{"skipped":1}')).toThrow(/not the counts .*: captured: /);
  });
});
