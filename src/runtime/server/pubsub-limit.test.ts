import { describe, expect, it } from 'vitest';
import { keepPubsubLimitLifted } from './pubsub-limit.js';

const kept = (...args: string[]) => keepPubsubLimitLifted(args.map((a) => Buffer.from(a)))?.map((a) => a.toString()) ?? null;

describe('keepPubsubLimitLifted', () => {
  it('sets the pubsub class to 0 0 0 and keeps the other classes as written', () => {
    expect(kept('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1mb 2mb 60 replica 3mb 4mb 70 pubsub 5mb 6mb 80')).toEqual([
      'CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1mb 2mb 60 replica 3mb 4mb 70 pubsub 0 0 0',
    ]);
  });
  it('reads names and units in any case, and values among several parameters', () => {
    expect(kept('config', 'set', 'maxmemory', '1mb', 'Client-Output-Buffer-Limit', 'PubSub 100000 0 0')).toEqual([
      'config', 'set', 'maxmemory', '1mb', 'Client-Output-Buffer-Limit', 'pubsub 0 0 0',
    ]);
    expect(kept('CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 0 1KB 0')).toEqual(['CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 0 0 0']);
  });
  it('changes nothing without a pubsub byte limit, or for other commands and parameters', () => {
    expect(kept('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 100000 0 0')).toBeNull();
    expect(kept('CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 0 0mb 60')).toBeNull();
    expect(kept('CONFIG', 'GET', 'client-output-buffer-limit')).toBeNull();
    expect(kept('CONFIG', 'SET', 'notify-keyspace-events', 'pubsub 1 1 1')).toBeNull();
  });
  it('passes a value the server refuses as written, for the server to refuse', () => {
    for (const value of ['pubsub 10mb 10mb 60s', 'pubsub 10mbs 10mb 60', 'wrong number', 'master 10mb 10mb 60', 'pubsub 1 2 3 normal']) {
      expect(kept('CONFIG', 'SET', 'client-output-buffer-limit', value)).toBeNull();
    }
  });
});
