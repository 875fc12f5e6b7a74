import { describe, expect, it } from 'vitest';
import { decodeUtf8, encodeUtf8, fromArrayBuffer, isArrayBuffer, toArrayBuffer } from './bytes.js';

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const reference = (bytes: Buffer): string | null => {
  try {
    return strict.decode(bytes);
  } catch {
    return null;
  }
};

/** Deterministic bytes biased towards UTF-8 lead and continuation bytes. */
function* samples(count: number): Generator<Buffer> {
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  const pool = [0x00, 0x41, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x9f, 0x90, 0x8f];
  for (let i = 0; i < count; i++) {
    const length = next() % 8;
    yield Buffer.from(Array.from({ length }, () => (next() % 3 === 0 ? next() % 256 : pool[next() % pool.length]!)));
  }
}

describe('guest bytes', () => {
  it('decodes exactly the byte sequences a strict UTF-8 decoder accepts, to the same text', () => {
    for (const bytes of samples(20_000)) expect([bytes.toString('hex'), decodeUtf8(bytes.toString('latin1'))]).toEqual([bytes.toString('hex'), reference(bytes)]);
  });

  it('decodes a byte range of a latin1 string', () => {
    const bytes = Buffer.from('ab€cd').toString('latin1');
    expect(decodeUtf8(bytes, 2, 5)).toBe('€');
    expect(decodeUtf8(bytes, 2, 4)).toBeNull();
  });

  it('encodes text as Buffer.from does, lone surrogates as U+FFFD', () => {
    for (const text of ['', 'plain', 'é€𝄞', '\ud800x', 'x\udfff', '\udbff\udfff', 'a'.repeat(10_000) + '€'.repeat(9_000)]) {
      expect(Buffer.from(encodeUtf8(text), 'latin1').equals(Buffer.from(text))).toBe(true);
    }
  });

  it('moves bytes between latin1 strings and ArrayBuffers', () => {
    const bytes = Buffer.from([0, 1, 127, 128, 255]).toString('latin1');
    const buffer = toArrayBuffer(bytes);
    expect(isArrayBuffer(buffer)).toBe(true);
    expect(isArrayBuffer(new Uint8Array(2))).toBe(false);
    expect(isArrayBuffer(Object.create(ArrayBuffer.prototype))).toBe(false);
    expect(fromArrayBuffer(buffer)).toBe(bytes);
  });
});
