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

/** Deterministic numbers (xorshift32: an LCG's low bits cycle too soon for the `%` choices the tests make). */
function xorshift(seed: number): () => number {
  return () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
}

/** Deterministic bytes biased towards UTF-8 lead and continuation bytes. */
function* samples(count: number): Generator<Buffer> {
  const next = xorshift(7);
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

  it('decodes text and refuses bytes after a long ASCII prefix', () => {
    const prefix = 'person:'.repeat(20);
    for (const tail of [Buffer.from('é€𝄞x'), Buffer.from([0xff, 0x41]), Buffer.from([0xe2, 0x82]), Buffer.from([0x41])]) {
      const bytes = Buffer.concat([Buffer.from(prefix), tail]);
      expect(decodeUtf8(bytes.toString('latin1'))).toBe(reference(bytes));
      expect(decodeUtf8(`xx${bytes.toString('latin1')}yy`, 2, bytes.length + 2)).toBe(reference(bytes));
    }
  });

  it('decodes a byte range of a latin1 string', () => {
    const bytes = Buffer.from('ab€cd').toString('latin1');
    expect(decodeUtf8(bytes, 2, 5)).toBe('€');
    expect(decodeUtf8(bytes, 2, 4)).toBeNull();
    const long = Buffer.from(`é${'y'.repeat(500)}é`).toString('latin1');
    expect(decodeUtf8(long, 2, 502)).toBe('y'.repeat(500));
    expect(decodeUtf8(long, 0, 400)).toBe(`é${'y'.repeat(398)}`);
    expect(decodeUtf8(long, 1, 400)).toBeNull();
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

  it('decodes long runs of ASCII among other bytes as a strict decoder does, from latin1 strings and ArrayBuffers alike', () => {
    const next = xorshift(11);
    const pieces = [Buffer.from('é'), Buffer.from('€'), Buffer.from('𝄞'), Buffer.from([0xff]), Buffer.from([0xe2, 0x82]), Buffer.from([0x80])];
    for (let n = 0; n < 300; n++) {
      const parts: Buffer[] = [];
      for (let k = next() % 6; k >= 0; k--) {
        parts.push(Buffer.alloc(next() % 200, 0x61 + (k % 26)));
        if (next() % 4 !== 0) parts.push(pieces[next() % (next() % 5 === 0 ? pieces.length : 3)]!);
      }
      const bytes = Buffer.concat(parts);
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
      expect([bytes.toString('hex'), decodeUtf8(bytes.toString('latin1'))]).toEqual([bytes.toString('hex'), reference(bytes)]);
      expect([bytes.toString('hex'), decodeUtf8(buffer)]).toEqual([bytes.toString('hex'), reference(bytes)]);
    }
  });

  it('takes byte ranges of ArrayBuffers: copies, and the text of a range', () => {
    const bytes = Buffer.from('ab€cd');
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
    const range = toArrayBuffer(buffer, 2, 5);
    expect(range).not.toBe(buffer);
    expect(Buffer.from(range).equals(Buffer.from('€'))).toBe(true);
    expect(decodeUtf8(buffer, 2, 5)).toBe('€');
    expect(decodeUtf8(buffer, 2, 4)).toBeNull();
    expect(fromArrayBuffer(buffer, 1, 2)).toBe('b');
  });
});
