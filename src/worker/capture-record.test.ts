import { describe, expect, it } from 'vitest';
import { utf8Text } from './capture-record.js';

describe('utf8Text', () => {
  it('keeps a leading byte order mark: U+FEFF at the start of a value is data, and lands in MySQL as written', () => {
    const bytes = Buffer.from('\uFEFFabc', 'utf8');
    expect(utf8Text(bytes, 0, bytes.length)).toBe('\uFEFFabc');
  });

  it('decodes ASCII and multi-byte text, and refuses invalid UTF-8', () => {
    const bytes = Buffer.from('zoë', 'utf8');
    expect(utf8Text(bytes, 0, bytes.length)).toBe('zoë');
    expect(utf8Text(Buffer.from('plain'), 1, 4)).toBe('lai');
    expect(utf8Text(Buffer.from([0x61, 0xff]), 0, 2)).toBeUndefined();
  });
});
