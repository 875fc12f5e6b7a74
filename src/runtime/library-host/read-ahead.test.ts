import { describe, expect, it } from 'vitest';
import { array, blob, error, integer, NULL, simple } from '../resp/types.js';
import { ReadAhead, showsKeyFound } from './read-ahead.js';

const argv = (...args: string[]) => args.map((arg) => Buffer.from(arg));

describe('showsKeyFound', () => {
  it('is true only for a reply that a missing (or lazily expired) key cannot give', () => {
    expect(showsKeyFound(argv('HMGET', 'k', 'a', 'b'), array([NULL, blob('1')]))).toBe(true);
    expect(showsKeyFound(argv('HMGET', 'k', 'a', 'b'), array([NULL, NULL]))).toBe(false);
    expect(showsKeyFound(argv('hget', 'k', 'a'), blob(''))).toBe(true);
    expect(showsKeyFound(argv('GET', 'k'), NULL)).toBe(false);
    expect(showsKeyFound(argv('EXISTS', 'k'), integer(1))).toBe(true);
    expect(showsKeyFound(argv('STRLEN', 'k'), integer(0))).toBe(false); // an empty string key reads 0 as well
    expect(showsKeyFound(argv('TYPE', 'k'), simple('hash'))).toBe(true);
    expect(showsKeyFound(argv('TYPE', 'k'), simple('none'))).toBe(false);
    expect(showsKeyFound(argv('HGET', 'k', 'a'), error('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBe(false);
    expect(showsKeyFound(argv('LLEN', 'k'), integer(3))).toBe(false);
  });
});

describe('ReadAhead', () => {
  it('leaves the marker out behind a command under a prefix once the last read behind it found the key', () => {
    const ahead = new ReadAhead();
    expect(ahead.open('p:', Buffer.from('p:1'), Buffer.from('HSET'))).toBeNull();
    ahead.take(argv('HMGET', 'p:1', 'a'), 0); // learnt
    const first = ahead.open('p:', Buffer.from('p:2'), Buffer.from('HSET'))!;
    expect(first).toEqual({ argv: argv('HMGET', 'p:2', 'a'), fence: true });
    ahead.offer(first.argv, 0, array([blob('1')]), Promise.resolve([]));
    expect(ahead.open('p:', Buffer.from('p:3'), Buffer.from('hset'))!.fence).toBe(false);
    expect(ahead.open('p:', Buffer.from('p:3'), Buffer.from('DEL'))!.fence).toBe(true);
    const missed = ahead.open('p:', Buffer.from('p:4'), Buffer.from('HSET'))!;
    ahead.offer(missed.argv, 0, array([NULL]), Promise.resolve([]));
    expect(ahead.open('p:', Buffer.from('p:5'), Buffer.from('HSET'))!.fence).toBe(true);
  });
});
