import { describe, expect, it } from 'vitest';
import { ByteRuns } from './byte-runs.js';

describe('ByteRuns', () => {
  it('joins views that follow each other in memory into one view, and keeps the others apart, in order', () => {
    const chunk = Buffer.from('aabbcc');
    const other = Buffer.from('dd');
    const runs = new ByteRuns();
    runs.add(chunk.subarray(0, 2));
    runs.add(chunk.subarray(2, 4));
    runs.add(other);
    runs.add(chunk.subarray(4, 6));
    expect(runs.bytes).toBe(8);
    const taken = runs.take();
    expect(taken.map((b) => b.toString())).toEqual(['aabb', 'dd', 'cc']);
    expect(taken[0]!.buffer).toBe(chunk.buffer);
    expect(runs.empty).toBe(true);
    runs.add(chunk.subarray(0, 3));
    runs.add(chunk.subarray(3));
    const joined = runs.takeJoined();
    expect(joined.toString()).toBe('aabbcc');
    expect(joined.buffer).toBe(chunk.buffer);
  });
});
