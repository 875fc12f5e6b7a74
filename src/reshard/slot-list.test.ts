import { describe, expect, it } from 'vitest';
import { parseSlotList } from './slot-list.js';

describe('parseSlotList', () => {
  it('takes slots and inclusive ranges, in order, each once', () => {
    expect(parseSlotList('5061')).toEqual([5061]);
    expect(parseSlotList('7,0-2, 5,2')).toEqual([0, 1, 2, 5, 7]);
    expect(parseSlotList('16383')).toEqual([16383]);
  });

  it('names the part it refuses', () => {
    expect(() => parseSlotList('1,x')).toThrow("'x' is not a slot");
    expect(() => parseSlotList('')).toThrow("'' is not a slot");
    expect(() => parseSlotList('16384')).toThrow("'16384': slots are 0 to 16383");
    expect(() => parseSlotList('9-3')).toThrow("'9-3': a range goes from the lower");
    expect(() => parseSlotList('-1')).toThrow("'-1' is not a slot");
  });
});
