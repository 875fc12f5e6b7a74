import { describe, expect, it } from 'vitest';
import { mergeNotifyFlags } from './notify-keyspace-events.js';

describe('mergeNotifyFlags', () => {
  it('adds every class, keyspace channels and key misses', () => {
    expect(mergeNotifyFlags('')).toBe('AKm');
  });
  it('keeps the flags the user set', () => {
    expect(mergeNotifyFlags('Ex')).toBe('ExAKm');
    expect(mergeNotifyFlags('KEA')).toBe('KEAm');
  });
  it('changes nothing when everything is there, whether as A or as the classes A stands for', () => {
    expect(mergeNotifyFlags('AKEm')).toBeNull();
    expect(mergeNotifyFlags('g$lshzxetdKm')).toBeNull();
  });
});
