import { describe, expect, it } from 'vitest';
import type { BatchDescriptor } from './batch-descriptor.js';
import { groupBatches, sameGroup } from './batch-group.js';

function batch(id: number, from: string, to: string, count: number): BatchDescriptor {
  return { id: `${id}-0`, stream: 'wb:changes:{w}', from, to, count, stamp: undefined };
}

const ordered = [batch(10, '0-0', '1-0', 1000), batch(11, '1-0', '2-0', 1000), batch(12, '2-0', '3-0', 1000), batch(13, '3-0', '4-0', 1000)];

describe('groupBatches', () => {
  it('takes consecutive batches up to the record limit', () => {
    const group = groupBatches(ordered, 0, 3000);
    expect(group.descriptors.map((d) => d.id)).toEqual(['10-0', '11-0', '12-0']);
    expect(group).toMatchObject({ from: '0-0', to: '3-0', count: 3000, label: '10-0..12-0' });
  });

  it('always takes the first batch, even over the limit, and alone when the next does not fit', () => {
    const group = groupBatches(ordered, 1, 500);
    expect(group.descriptors.map((d) => d.id)).toEqual(['11-0']);
    expect(group).toMatchObject({ from: '1-0', to: '2-0', count: 1000, label: '11-0' });
  });

  it('stops at a gap: a batch held by another worker lies between', () => {
    const withGap = [ordered[0]!, ordered[2]!, ordered[3]!];
    expect(groupBatches(withGap, 0, 10_000).descriptors.map((d) => d.id)).toEqual(['10-0']);
    expect(groupBatches(withGap, 1, 10_000).descriptors.map((d) => d.id)).toEqual(['12-0', '13-0']);
  });

  it('writes a descriptor that announces no count alone', () => {
    const unknown = [batch(10, '0-0', '1-0', 0), ordered[1]!];
    expect(groupBatches(unknown, 0, 10_000).descriptors).toHaveLength(1);
    expect(groupBatches([ordered[0]!, batch(11, '1-0', '2-0', 0)], 0, 10_000).descriptors).toHaveLength(1);
  });

  it('sameGroup compares the batches', () => {
    expect(sameGroup(groupBatches(ordered, 0, 2000), groupBatches(ordered, 0, 2500))).toBe(true);
    expect(sameGroup(groupBatches(ordered, 0, 2000), groupBatches(ordered, 0, 3000))).toBe(false);
  });
});
