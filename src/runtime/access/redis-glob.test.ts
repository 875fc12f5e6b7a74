import { describe, expect, it } from 'vitest';
import { redisGlobMatch } from './redis-glob.js';

const match = (pattern: string, subject: string) => redisGlobMatch(Buffer.from(pattern, 'latin1'), Buffer.from(subject, 'latin1'));

describe('redisGlobMatch (stringmatchlen)', () => {
  it.each([
    ['person:*', 'person:1', true],
    ['person:*', 'person:', true],
    ['person:*', 'persons:1', false],
    ['*', 'x', true],
    ['*', '', false],
    ['', '', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['a**', 'a', true],
    ['h?llo', 'hello', true],
    ['h?llo', 'hllo', false],
    ['h[ae]llo', 'hallo', true],
    ['h[ae]llo', 'hillo', false],
    ['h[^e]llo', 'hallo', true],
    ['h[^e]llo', 'hello', false],
    ['h[a-b]llo', 'hbllo', true],
    ['h[b-a]llo', 'hbllo', true],
    ['h[a-b]llo', 'hcllo', false],
    ['h[\\]]llo', 'h]llo', true],
    ['x\\*', 'x*', true],
    ['x\\*', 'xy', false],
    ['x[abc', 'xb', true],
    ['x[abc', 'xbc', false],
    ['x[]', 'x]', false],
    ['*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(40), false],
  ])('%s against %s: %s', (pattern, subject, expected) => {
    expect(match(pattern, subject)).toBe(expected);
  });
});
