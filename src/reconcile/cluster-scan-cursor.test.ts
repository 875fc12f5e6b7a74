import { describe, expect, it } from 'vitest';
import { SCAN_DONE, formatClusterCursor, interleave, parseClusterCursor } from './cluster-scan-cursor.js';

const primaries = ['127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003'];

describe('the cluster scan cursor', () => {
  it('keeps a cursor per primary, and each primary resumes at its own', () => {
    const positions = new Map([['127.0.0.1:7001', '17'], ['127.0.0.1:7002', SCAN_DONE], ['127.0.0.1:7003', '0']]);
    const stored = formatClusterCursor(positions);
    expect(stored).toBe('127.0.0.1:7001/17,127.0.0.1:7002/-,127.0.0.1:7003/0');
    expect(parseClusterCursor(stored, primaries)).toEqual(positions);
  });

  it('is 0 when every primary is done, and 0 starts every primary at 0', () => {
    expect(formatClusterCursor(new Map(primaries.map((node) => [node, SCAN_DONE])))).toBe('0');
    expect([...parseClusterCursor('0', primaries).values()]).toEqual(['0', '0', '0']);
  });

  it('scans a primary the point does not name from its start, and drops a named node that is no primary now', () => {
    expect(parseClusterCursor('127.0.0.1:7002/40,127.0.0.1:7009/5', primaries)).toEqual(new Map([['127.0.0.1:7001', '0'], ['127.0.0.1:7002', '40'], ['127.0.0.1:7003', '0']]));
  });

  it('takes the primaries\' keys in turn', () => {
    expect(interleave([['a1', 'a2', 'a3'], ['b1'], ['c1', 'c2']])).toEqual(['a1', 'b1', 'c1', 'a2', 'c2', 'a3']);
  });
});
