import { describe, expect, it } from 'vitest';
import { keepNotifyFlags, mergeNotifyFlags, missingNotifyFlags } from './notify-flags.js';
import { missingProbedFlags, PROBED_EVENTS } from './notify-keyspace-probe.js';

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

describe('missingNotifyFlags', () => {
  it('names what CONFIG SET would add', () => {
    expect(missingNotifyFlags('')).toBe('AKm');
    expect(missingNotifyFlags('KEA')).toBe('m');
    expect(missingNotifyFlags('g$lshzxetdKm')).toBe('');
    expect(missingNotifyFlags('g$lshzxetKm')).toBe('A');
  });
});

describe('missingProbedFlags', () => {
  const all = new Set(PROBED_EVENTS.map(([, event]) => event));
  it('is empty when every probed event came on the keyspace channel', () => {
    expect(missingProbedFlags(all, new Set())).toEqual([]);
  });
  it('names K when events came on keyevent channels only, and each class whose event came nowhere', () => {
    expect(missingProbedFlags(new Set(), all)).toEqual(['K']);
    expect(missingProbedFlags(new Set(), new Set())).toEqual(['K', 'g', '$', 'l', 's', 'h', 'z', 'x', 't', 'm']);
    expect(missingProbedFlags(new Set(['del', 'set', 'hset']), new Set())).toEqual(['l', 's', 'z', 'x', 't', 'm']);
  });
});

describe('keepNotifyFlags', () => {
  const args = (...words: string[]) => words.map((w) => Buffer.from(w));
  const text = (out: Buffer[] | null) => out?.map((b) => b.toString());
  it("adds the runtime's flags to each notify-keyspace-events of a CONFIG SET, in any case", () => {
    expect(text(keepNotifyFlags(args('config', 'SET', 'notify-keyspace-events', 'En')))).toEqual(['config', 'SET', 'notify-keyspace-events', 'EnAKm']);
    expect(text(keepNotifyFlags(args('CONFIG', 'set', 'maxmemory', '0', 'Notify-Keyspace-Events', '')))).toEqual(['CONFIG', 'set', 'maxmemory', '0', 'Notify-Keyspace-Events', 'AKm']);
  });
  it('leaves alone what needs nothing: other parameters, values that have the flags, CONFIG GET', () => {
    expect(keepNotifyFlags(args('config', 'set', 'maxmemory', '0'))).toBeNull();
    expect(keepNotifyFlags(args('config', 'set', 'notify-keyspace-events', 'KEAm'))).toBeNull();
    expect(keepNotifyFlags(args('config', 'get', 'notify-keyspace-events', 'x'))).toBeNull();
    expect(keepNotifyFlags(args('config', 'set', 'notify-keyspace-events'))).toBeNull();
  });
});
