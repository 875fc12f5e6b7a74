import { describe, expect, it } from 'vitest';
import { flagDeletesKey, flagReplicates, parseFlag } from './flags.js';

describe('parseFlag', () => {
  it.each([
    ['=', '=', null],
    ['+', '+', null],
    ['-', '-', null],
    ['~', '~', null],
    ['=6ce0c902-30c2-4ac9-8342-2f04fb359a94', '=', '6ce0c902-30c2-4ac9-8342-2f04fb359a94'],
    ['-abc', '-', 'abc'],
  ])('reads %j as flag %s with uuid %s', (value, flag, uuid) => {
    expect(parseFlag(value)).toEqual({ ok: true, flag, uuid });
  });

  it('rejects an unknown flag, naming it and keeping the uuid for the failure ack', () => {
    expect(parseFlag('?u1')).toEqual({ ok: false, reason: "unknown '#' flag '?'", uuid: 'u1' });
  });

  it('rejects an empty value', () => {
    expect(parseFlag('')).toEqual({ ok: false, reason: "unknown '#' flag ''", uuid: null });
  });

  it('takes a whole code point as the flag, not half a surrogate pair', () => {
    expect(parseFlag('😀x')).toEqual({ ok: false, reason: "unknown '#' flag '😀'", uuid: 'x' });
  });
});

describe('flag semantics (the seed table)', () => {
  it.each([
    ['=', false, true],
    ['+', false, false],
    ['-', true, false],
    ['~', true, true],
  ] as const)('%s: deletes key %s, replicates %s', (flag, deletes, replicates) => {
    expect(flagDeletesKey(flag)).toBe(deletes);
    expect(flagReplicates(flag)).toBe(replicates);
  });
});
