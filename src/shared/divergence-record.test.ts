import { describe, expect, it } from 'vitest';
import { DELETED_RECORD, fingerprint, fnv1a64Hex, keptRecord, recordHolds } from './divergence-record.js';
import { encodeUtf8 } from './utf8.js';

const bytes = (text: string) => encodeUtf8(text);

describe('divergence records', () => {
  it('hashes with FNV-1a 64 (published test vectors)', () => {
    expect(fnv1a64Hex(new Uint8Array())).toBe('cbf29ce484222325');
    expect(fnv1a64Hex(bytes('a'))).toBe('af63dc4c8601ec8c');
    expect(fnv1a64Hex(bytes('foobar'))).toBe('85944171f73967e8');
  });

  it('fingerprints the fields whatever their order, and tells contents apart where a plain concatenation would not', () => {
    expect(fingerprint([['age', bytes('50')], ['first_name', bytes('A')]])).toBe(fingerprint([['first_name', bytes('A')], ['age', bytes('50')]]));
    expect(fingerprint([['a', bytes('bc')]])).not.toBe(fingerprint([['ab', bytes('c')]]));
    expect(fingerprint([['age', bytes('50')]])).not.toBe(fingerprint([['age', bytes('51')]]));
  });

  it('holds a - record while the key is missing, a + record while the content is the same', () => {
    expect(recordHolds(DELETED_RECORD, null)).toBe(true);
    expect(recordHolds(DELETED_RECORD, [])).toBe(false);
    const record = keptRecord([['age', bytes('50')]]);
    expect(record).toMatch(/^\+[0-9a-f]{16}$/);
    expect(recordHolds(record, [['age', Buffer.from('50')]])).toBe(true);
    expect(recordHolds(record, [['age', bytes('60')]])).toBe(false);
    expect(recordHolds(record, null)).toBe(false);
  });
});
