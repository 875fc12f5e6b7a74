import { describe, expect, it } from 'vitest';
import { nameProblem, parsePrologue } from './prologue.js';
import { escapeDefault } from './escape-default.js';

describe('parsePrologue', () => {
  it('reads engine, version and name in any order', () => {
    expect(parsePrologue('#!js name=lib api_version=1.1 \ncode')).toEqual({ engine: 'js', apiVersion: '1.1', name: 'lib' });
  });
  it('rejects an empty value as an invalid prologue', () => {
    expect(() => parsePrologue('#!js api_version= name=lib')).toThrow(/^Invalid or missing prologue/);
  });
});

describe('nameProblem / escapeDefault', () => {
  it('allows [A-Za-z0-9_] only', () => {
    expect(nameProblem('a_1')).toBeNull();
    expect(nameProblem('a-b')).toBe("Unallowed char was given '-'");
  });
  it("escapes like Rust's escape_default", () => {
    expect(escapeDefault('a\tb"é\u0001')).toBe('a\\tb\\"\\u{e9}\\u{1}');
  });
});
