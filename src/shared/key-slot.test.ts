import { describe, expect, it, vi } from 'vitest';
import { CLUSTER_SLOTS, crc16, keySlot, slotTag } from './key-slot.js';

const TAG_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** How slot-tags.ts was made: per slot, the first tag of 1, then 2, then 3 alphanumeric characters landing there. */
const FIRST_TAGS: readonly string[] = (() => {
  const tags: string[] = [];
  const n = TAG_ALPHABET.length;
  for (let length = 1; length <= 3; length++) {
    for (let index = 0; index < n ** length; index++) {
      let tag = '';
      for (let rest = index, position = 0; position < length; position++, rest = Math.floor(rest / n)) tag = TAG_ALPHABET[rest % n]! + tag;
      const slot = crc16(Buffer.from(tag)) % CLUSTER_SLOTS;
      tags[slot] ??= tag;
    }
  }
  return tags;
})();

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

  it('is, for every slot, the first 1–3 character alphanumeric tag that lands there (the names of existing keys depend on it)', () => {
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) if (slotTag(slot) !== FIRST_TAGS[slot]) expect.fail(`slot ${slot}: ${slotTag(slot)}, the first tag is ${FIRST_TAGS[slot]}`);
  });

  it('answers its first call without searching tags: inside a capture, building the table once outlasted the lock timeout', async () => {
    vi.resetModules();
    const fresh = await import('./key-slot.js');
    const started = performance.now();
    fresh.slotTag(12345);
    // The search takes ~240k CRC16s (30 ms on a quiet machine, 180 ms at load 10); a lookup a few microseconds.
    expect(performance.now() - started).toBeLessThan(5);
  });

  it('refuses a slot outside 0..16383', () => {
    expect(() => slotTag(CLUSTER_SLOTS)).toThrow(RangeError);
    expect(() => slotTag(-1)).toThrow(RangeError);
  });
});
