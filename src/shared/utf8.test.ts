import { describe, expect, it } from 'vitest';
import { encodeUtf8 } from './utf8.js';

describe('encodeUtf8', () => {
  it('gives the bytes Node does for 1-, 2-, 3- and 4-byte characters', () => {
    for (const text of ['', 'person:1', 'jörg', 'ключ', '键:值', 'a😀b', '😀', '\u007f\u0080\u07ff\u0800\uffff', 'x\u{10ffff}']) {
      expect(Buffer.from(encodeUtf8(text)), text).toEqual(Buffer.from(text, 'utf8'));
    }
  });
});
