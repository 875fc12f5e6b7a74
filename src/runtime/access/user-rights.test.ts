import { describe, expect, it } from 'vitest';
import { blob, type RespValue } from '../resp/types.js';
import { mayFullyAccess, parseUserRights } from './user-rights.js';

const text = (value: string): RespValue => blob(value);
const list = (...values: string[]): RespValue => ({ type: 'array', value: values.map(text) });
function getuser(fields: Record<string, RespValue>): RespValue {
  return { type: 'map', value: Object.entries(fields).map(([k, v]) => [text(k), v] as [RespValue, RespValue]) };
}

describe('parseUserRights (ACL GETUSER)', () => {
  it('a user with every command on every key and channel needs no check', () => {
    const rights = parseUserRights(getuser({ flags: list('on', 'nopass'), commands: text('+@all'), keys: text('~*'), channels: text('&*'), selectors: list() }));
    expect(rights).toMatchObject({ exists: true, passwordless: true, allCommandsAndKeys: true, allChannels: true });
  });

  it('keeps only read-write patterns, of the root selector and the others', () => {
    const selector = getuser({ commands: text('-@all +get'), keys: text('~sel:* %R~selro:*'), channels: text('') });
    const rights = parseUserRights(
      getuser({ flags: list('on'), commands: text('+@all'), keys: text('~person:* %R~ro:* %W~wo:* %RW~rw:*'), channels: text(''), selectors: { type: 'array', value: [selector] } }),
    );
    expect(rights.allCommandsAndKeys).toBe(false);
    expect(rights.passwordless).toBe(false);
    expect(rights.readWritePatterns.map(String)).toEqual(['person:*', 'rw:*', 'sel:*']);
    expect(mayFullyAccess(rights, Buffer.from('person:1'))).toBe(true);
    expect(mayFullyAccess(rights, Buffer.from('sel:1'))).toBe(true);
    expect(mayFullyAccess(rights, Buffer.from('ro:1'))).toBe(false);
    expect(mayFullyAccess(rights, Buffer.from('wo:1'))).toBe(false);
  });

  it('a nil reply is a user that does not exist', () => {
    expect(parseUserRights({ type: 'null' }).exists).toBe(false);
  });
});
