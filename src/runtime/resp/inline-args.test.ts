import { describe, expect, it } from 'vitest';
import { splitInlineArgs } from './inline-args.js';

const split = (line: string) => splitInlineArgs(Buffer.from(line, 'latin1'))?.map((arg) => arg.toString('latin1')) ?? null;

describe('splitInlineArgs (sdssplitargs)', () => {
  it.each([
    ['SET a b', ['SET', 'a', 'b']],
    ['  SET\t a  ', ['SET', 'a']],
    ['SET "a b" c', ['SET', 'a b', 'c']],
    ['SET "\\x41\\n\\t\\"\\q" x', ['SET', 'A\n\t"q', 'x']],
    ['SET "\\x4" x', ['SET', 'x4', 'x']],
    ["SET 'a \\' \\n b'", ['SET', "a ' \\n b"]],
    ['SET ""', ['SET', '']],
    ['SET "a\\', null],
    ['SET "a"b', null],
    ["SET 'a'b", null],
    ["SET 'a", null],
    ['SET a\0 b', ['SET', 'a']],
  ] as const)('%j', (line, expected) => {
    expect(split(line)).toEqual(expected);
  });
});
