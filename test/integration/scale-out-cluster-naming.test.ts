/**
 * Redis Cluster naming rules: every key a writer's capture, batching, commit and dead-lettering touch carries
 * the writer's hash tag, so they share one slot and the library's TFCALLs (which name the capture and batch
 * streams together) are cluster-safe. Also checks the CRC16 key-slot helper against the cluster spec's values.
 */
import { describe, expect, it } from 'vitest';
import { ackStreamKey, writerKeys } from '../../src/shared/keys.js';
import { crc16, keySlot } from '../../src/shared/key-slot.js';

describe('CRC16 key slot (the cluster specification)', () => {
  it('matches the reference checksum and known slots', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x31c3);
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('bar')).toBe(5061);
  });

  it('hashes only the first non-empty {tag}', () => {
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    // An empty tag `{}` does not count: the whole key is hashed.
    expect(keySlot('foo{}{bar}')).toBe(crc16(Buffer.from('foo{}{bar}')) % 16384);
    // Only the first tag counts.
    expect(keySlot('foo{{bar}}zap')).toBe(keySlot('{bar'));
    expect(keySlot('foo{bar}{zap}')).toBe(keySlot('bar'));
  });
});

describe("a writer's keys in Redis Cluster", () => {
  const writers = ['PersonsWriteBehind', 'CarsWriteBehind', 'w', 'Writer_With_Underscores_123'];

  it.each(writers)('all keys of writer %s hash to one slot', (writer) => {
    const keys = writerKeys(writer);
    const slots = new Set(Object.values(keys).map((key) => keySlot(key)));
    expect(slots.size).toBe(1);
    expect([...slots][0]).toBe(keySlot(writer));
  });

  it('every key name carries the writer hash tag exactly once, first', () => {
    for (const writer of writers) {
      for (const key of Object.values(writerKeys(writer))) {
        expect(key.indexOf('{')).toBe(key.indexOf(`{${writer}}`));
        expect(key.split('{').length).toBe(2);
      }
    }
  });

  it('different writers may land on different slots (placement is per writer, not per hash key)', () => {
    const slots = new Set(writers.map((w) => keySlot(writerKeys(w).changes)));
    expect(slots.size).toBeGreaterThan(1);
  });

  it("an acknowledgement stream lives in its hash key's slot, not in the writer's", () => {
    for (const hashKey of ['person:1', 'person:007', 'car:42']) {
      expect(keySlot(ackStreamKey(hashKey, '6ce0c902-30c2-4ac9-8342-2f04fb359a94'))).toBe(keySlot(hashKey));
    }
  });

  it("hash keys of one writer spread over many slots, unlike the writer's own streams", () => {
    const slots = new Set(Array.from({ length: 1000 }, (_, i) => keySlot(`person:${i}`)));
    expect(slots.size).toBeGreaterThan(900);
  });
});
