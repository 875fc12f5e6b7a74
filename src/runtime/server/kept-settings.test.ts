import { describe, expect, it } from 'vitest';
import { changedSettings, keepRuntimeSettings, mergeNotifyFlags, missingNotifyFlags, withPubsubLifted } from './kept-settings.js';
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

describe('keepRuntimeSettings', () => {
  const args = (...words: string[]) => words.map((w) => Buffer.from(w));
  const text = (out: Buffer[] | null) => out?.map((b) => b.toString());
  const lifted = { pubsubLimitLifted: true };
  it("adds the runtime's flags to each notify-keyspace-events of a CONFIG SET, in any case", () => {
    expect(text(keepRuntimeSettings(args('config', 'SET', 'notify-keyspace-events', 'En'), lifted))).toEqual(['config', 'SET', 'notify-keyspace-events', 'EnAKm']);
    expect(text(keepRuntimeSettings(args('CONFIG', 'set', 'maxmemory', '0', 'Notify-Keyspace-Events', ''), { pubsubLimitLifted: false }))).toEqual(['CONFIG', 'set', 'maxmemory', '0', 'Notify-Keyspace-Events', 'AKm']);
  });
  it('keeps the pubsub class of client-output-buffer-limit at 0 0 0 when the runtime lifted it, alone or with other classes and parameters, in any case', () => {
    expect(text(keepRuntimeSettings(args('config', 'set', 'client-output-buffer-limit', 'pubsub 32mb 8mb 60'), lifted))).toEqual(['config', 'set', 'client-output-buffer-limit', 'pubsub 0 0 0']);
    expect(text(keepRuntimeSettings(args('CONFIG', 'SET', 'notify-keyspace-events', 'E', 'Client-Output-Buffer-Limit', 'normal 1mb 512kb 5 PubSub 1gb 0 0 replica 256mb 64mb 60'), lifted)))
      .toEqual(['CONFIG', 'SET', 'notify-keyspace-events', 'EAKm', 'Client-Output-Buffer-Limit', 'normal 1mb 512kb 5 PubSub 0 0 0 replica 256mb 64mb 60']);
  });
  it('leaves client-output-buffer-limit as written when the runtime could not lift the limit at start (CONFIG unavailable)', () => {
    expect(keepRuntimeSettings(args('config', 'set', 'client-output-buffer-limit', 'pubsub 32mb 8mb 60'), { pubsubLimitLifted: false })).toBeNull();
  });
  it('leaves alone what needs nothing: other parameters, values that keep the settings, CONFIG GET', () => {
    expect(keepRuntimeSettings(args('config', 'set', 'maxmemory', '0'), lifted)).toBeNull();
    expect(keepRuntimeSettings(args('config', 'set', 'notify-keyspace-events', 'KEAm'), lifted)).toBeNull();
    expect(keepRuntimeSettings(args('config', 'set', 'client-output-buffer-limit', 'normal 1mb 1mb 0 pubsub 0 0 60'), lifted)).toBeNull();
    expect(keepRuntimeSettings(args('config', 'get', 'notify-keyspace-events', 'x'), lifted)).toBeNull();
    expect(keepRuntimeSettings(args('config', 'set', 'notify-keyspace-events'), lifted)).toBeNull();
  });
});

describe('withPubsubLifted', () => {
  it('lifts each pubsub class with a limit, keeping the other classes word for word', () => {
    expect(withPubsubLifted('pubsub 32mb 8mb 60')).toBe('pubsub 0 0 0');
    expect(withPubsubLifted('  slave 1G 1g 1  PUBSUB 0 1kb 0 ')).toBe('slave 1G 1g 1 PUBSUB 0 0 0');
    expect(withPubsubLifted('pubsub 0 0 0 normal 5 5 5')).toBeNull();
    expect(withPubsubLifted('normal 0 0 0')).toBeNull();
  });
  it('leaves a value redis-server refuses as written, so the client gets its error and nothing changes', () => {
    expect(withPubsubLifted('pubsub 32mb 8mb')).toBeNull();
    expect(withPubsubLifted('master 1mb 1mb 0 pubsub 1mb 1mb 0')).toBeNull();
    expect(withPubsubLifted('pubsub 32xb 8mb 60')).toBeNull();
    expect(withPubsubLifted('pubsub 32mb 8mb -1')).toBeNull();
    expect(withPubsubLifted('')).toBeNull();
  });
});

describe('changedSettings', () => {
  const entries = (flags: string, limit: string) => new Map([['notify-keyspace-events', flags], ['client-output-buffer-limit', limit]]);
  const kept = 'normal 0 0 0 slave 268435456 67108864 60 pubsub 0 0 0';
  it('is empty while the flags and the lifted pubsub limit are there', () => {
    expect(changedSettings(entries('KEAm', kept), { pubsubLimitLifted: true })).toEqual([]);
  });
  it('names each setting changed, the value found and the value that sets it back', () => {
    const restored = 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60';
    expect(changedSettings(entries('Ex', restored), { pubsubLimitLifted: true })).toEqual([
      { setting: 'notify-keyspace-events', found: 'Ex', setBack: 'ExAKm' },
      { setting: 'client-output-buffer-limit', found: restored, setBack: 'pubsub 0 0 0' },
    ]);
  });
  it('does not watch a pubsub limit the runtime did not lift at start', () => {
    expect(changedSettings(entries('AKm', 'normal 0 0 0 slave 0 0 0 pubsub 33554432 8388608 60'), { pubsubLimitLifted: false })).toEqual([]);
  });
});
