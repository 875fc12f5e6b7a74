import { describe, expect, it } from 'vitest';
import { compareStreamIds, formatStreamId, isStreamId, nextStreamId, parseStreamId, previousStreamId, streamIdMs } from './stream-id.js';

describe('stream ids', () => {
  it('formats the BigInt pair a stream trigger receives', () => {
    expect(formatStreamId([1732560000000n, 12n])).toBe('1732560000000-12');
  });

  it('accepts only complete ids from callers', () => {
    expect(isStreamId('1-0')).toBe(true);
    for (const id of ['1', '1-', '-1', '1-0-0', '*', '$', '1-x', '']) expect(isStreamId(id), id).toBe(false);
  });

  it('reads the milliseconds part', () => {
    expect(streamIdMs('1732560000000-3')).toBe(1732560000000);
    expect(streamIdMs('5')).toBe(5);
  });

  it('parses both parts, a bare ms as seq 0', () => {
    expect(parseStreamId('18446744073709551615-7')).toEqual([18446744073709551615n, 7n]);
    expect(parseStreamId('5')).toEqual([5n, 0n]);
  });

  it('compares as numbers, not as text, beyond what a Number holds exactly', () => {
    const ordered = ['0-0', '1', '1-1', '9-0', '10-0', '10-2', '10-10', '1732560000000-0', '9007199254740993-0', '9007199254740993-1', '18446744073709551614-18446744073709551615', '18446744073709551615-0'];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) expect(Math.sign(compareStreamIds(ordered[i]!, ordered[j]!)), `${ordered[i]} vs ${ordered[j]}`).toBe(Math.sign(i - j));
    }
    expect(compareStreamIds('1-0', '1')).toBe(0);
  });

  it('gives the next id', () => {
    expect(nextStreamId('5-18446744073709551615')).toBe('5-18446744073709551616');
    expect(nextStreamId('7')).toBe('7-1');
  });

  it('gives the previous id, borrowing from the milliseconds, and none before 0-0', () => {
    expect(previousStreamId('5-3')).toBe('5-2');
    expect(previousStreamId('5-0')).toBe('4-18446744073709551615');
    expect(previousStreamId('5')).toBe('4-18446744073709551615');
    expect(previousStreamId('0-0')).toBeNull();
  });
});
