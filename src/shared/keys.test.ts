import { describe, expect, it } from 'vitest';
import { keySlot } from './key-slot.js';
import { firstSlotOfPartition, partitionKeys, partitionOfKey, writerKeys, writerOfCaptureStream } from './keys.js';

describe('partition keys', () => {
  it('one partition is the unpartitioned layout, name for name', () => {
    expect(partitionKeys('PersonsWriteBehind', 0, 1)).toEqual(writerKeys('PersonsWriteBehind'));
  });

  it("every key of a partition lands in the partition's first slot, and the writer is read back from the stream", () => {
    for (const count of [2, 4, 7, 256, 16384]) {
      for (const index of [0, 1, count - 1]) {
        const keys = partitionKeys('PersonsWriteBehind', index, count);
        expect(keys.changes.startsWith(`wb:changes:PersonsWriteBehind:${index}/${count}:{`)).toBe(true);
        for (const key of Object.values(keys)) expect(keySlot(key)).toBe(firstSlotOfPartition(index, count));
        expect(partitionOfKey(keys.changes, count)).toBe(index);
        expect(writerOfCaptureStream(keys.changes)).toBe('PersonsWriteBehind');
      }
    }
    expect(writerOfCaptureStream(writerKeys('W').changes)).toBe('W');
    expect(writerOfCaptureStream('wb:batches:W:1/4:{x}')).toBeNull();
  });

  it('partitions are equal ranges of slots: keys of one slot share a partition, and keys spread over all', () => {
    expect(partitionOfKey('person:{acme}1', 4)).toBe(partitionOfKey('person:{acme}2', 4));
    const seen = new Set(Array.from({ length: 400 }, (_, i) => partitionOfKey(`person:${i}`, 4)));
    expect(seen).toEqual(new Set([0, 1, 2, 3]));
    expect(partitionOfKey('anything', 1)).toBe(0);
  });

  it('refuses a partition that does not exist', () => {
    expect(() => partitionKeys('W', 4, 4)).toThrow(RangeError);
    expect(() => partitionKeys('W', 0, 0)).toThrow(RangeError);
  });
});
