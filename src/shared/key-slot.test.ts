import { describe, expect, it } from 'vitest';
import { CLUSTER_SLOTS, crc16, keySlot, slotTag } from './key-slot.js';

describe('keySlot (the cluster specification)', () => {
  it('matches the reference checksum and known slots', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x31c3);
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('bar')).toBe(5061);
  });

  it('hashes only the first non-empty {tag}', () => {
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(keySlot('foo{}{bar}')).toBe(crc16(Buffer.from('foo{}{bar}')) % CLUSTER_SLOTS);
    expect(keySlot('foo{{bar}}zap')).toBe(keySlot('{bar'));
    expect(keySlot('foo{bar}{zap}')).toBe(keySlot('bar'));
  });

  it('hashes strings as their UTF-8 bytes', () => {
    expect(keySlot('clé:é')).toBe(keySlot(Buffer.from('clé:é', 'utf8')));
    expect(keySlot('emoji:😀')).toBe(keySlot(Buffer.from('emoji:😀', 'utf8')));
  });
});

describe('slotTag', () => {
  it('gives every slot a tag of at most 3 characters whose keys land in that slot', () => {
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      const tag = slotTag(slot);
      expect(tag.length).toBeLessThanOrEqual(3);
      if (keySlot(`x:{${tag}}`) !== slot) expect.fail(`tag ${tag} of slot ${slot} lands in ${keySlot(`x:{${tag}}`)}`);
    }
  });

  it('refuses a slot outside 0..16383', () => {
    expect(() => slotTag(CLUSTER_SLOTS)).toThrow(RangeError);
    expect(() => slotTag(-1)).toThrow(RangeError);
  });
});
