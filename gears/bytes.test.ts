import { describe, expect, it } from 'vitest';
import { decodeUtf8, toHex } from './bytes.js';

const bytes = (...values: number[]) => new Uint8Array(values).buffer;

describe('decodeUtf8', () => {
  it('decodes ASCII and multi-byte text', () => {
    expect(decodeUtf8(bytes(0x3d, 0x61))).toBe('=a');
    expect(decodeUtf8(bytes(0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80))).toBe('é😀');
    expect(decodeUtf8(bytes())).toBe('');
    expect(decodeUtf8(bytes(0x00, 0x0a))).toBe('\u0000\n');
  });

  it('returns null for bytes that are not UTF-8', () => {
    expect(decodeUtf8(bytes(0xff))).toBeNull();
    expect(decodeUtf8(bytes(0xc3))).toBeNull();
    expect(decodeUtf8(bytes(0xed, 0xa0, 0x80))).toBeNull(); // an encoded surrogate
  });
});

describe('toHex', () => {
  it('encodes every byte as two lower-case digits', () => {
    expect(toHex(bytes(0x00, 0x0f, 0xff, 0x70))).toBe('000fff70');
  });
});
