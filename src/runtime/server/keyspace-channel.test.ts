import { describe, expect, it } from 'vitest';
import { coveringPrefixes, keyspaceChannelKey, keyspacePattern } from './keyspace-channel.js';

describe('keyspace channels', () => {
  it('escapes the glob characters of a prefix, so that they match only themselves', () => {
    expect(keyspacePattern(Buffer.from('a*b?[c]\\')).toString()).toBe('__keyspace@*__:a\\*b\\?\\[c\\]\\\\*');
    expect(keyspacePattern(Buffer.alloc(0)).toString()).toBe('__keyspace@*__:*');
  });

  it('keeps only the prefixes no other one starts (a key must match one pattern, or it is delivered twice)', () => {
    const kept = coveringPrefixes(['ab', 'a', 'b:', 'abc', 'b:'].map((p) => Buffer.from(p)));
    expect(kept.map(String)).toEqual(['a', 'b:']);
  });

  it('reads the database and the raw key of a channel, whatever the key holds', () => {
    const parsed = keyspaceChannelKey(Buffer.from('__keyspace@12__:x__:y\r\n'));
    expect(parsed && { db: parsed.db, key: parsed.key.toString() }).toEqual({ db: 12, key: 'x__:y\r\n' });
    expect(keyspaceChannelKey(Buffer.from('__keyevent@0__:set'))).toBeNull();
    expect(keyspaceChannelKey(Buffer.from('__keyspace@__:k'))).toBeNull();
  });
});
