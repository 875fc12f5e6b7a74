import { describe, expect, it } from 'vitest';
import { parsePrimaryKey } from './primary-key.js';

const person = { prefix: 'person:', keyColumns: ['person_id'] };
const order = { prefix: 'order:', keyColumns: ['customer_id', 'order_id'] };

describe('parsePrimaryKey', () => {
  it('maps everything after the prefix to a single key column, colons included', () => {
    expect(parsePrimaryKey(person, 'person:007')).toEqual({ ok: true, values: [['person_id', '007']] });
    expect(parsePrimaryKey(person, 'person:a:b')).toEqual({ ok: true, values: [['person_id', 'a:b']] });
  });

  it('splits a composite id into exactly one part per column', () => {
    expect(parsePrimaryKey(order, 'order:7:1001')).toEqual({ ok: true, values: [['customer_id', '7'], ['order_id', '1001']] });
  });

  it('rejects a key without an id', () => {
    const result = parsePrimaryKey(person, 'person:');
    expect(result).toEqual({ ok: false, reason: 'key person: has no id after person:' });
  });

  it('rejects a composite id with the wrong number of parts or an empty part, naming what it expected', () => {
    for (const key of ['order:7', 'order:7:1:2', 'order:7:', 'order::1']) {
      const result = parsePrimaryKey(order, key);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).toContain(`key ${key} must have 2 non-empty ':'-separated id parts after order: (customer_id, order_id)`);
    }
  });
});
