import { describe, expect, it } from 'vitest';
import { formatStreamId, isStreamId, streamIdMs } from './stream-id.js';

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
  });
});
