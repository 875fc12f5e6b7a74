import { describe, expect, it } from 'vitest';
import { parseConfig } from '../shared/config.js';
import { keyOfRow, keyValuesOf, scanPattern, writerTarget } from './writer-target.js';

const parsed = parseConfig({
  name: 'L',
  writers: [
    { name: 'Orders', keysPrefix: 'ord[er]?', table: 'orders', primaryKey: ['customer_id', 'order_id'], mappings: { total: 'total' } },
  ],
});
if (!parsed.ok) throw new Error(parsed.message);
const target = writerTarget(parsed.config, 'Orders', 'c.json');

describe('writerTarget', () => {
  it('escapes glob characters of the literal prefix in the SCAN pattern', () => {
    expect(scanPattern(target, '7:*')).toBe('ord\\[er\\]\\?:7:*');
  });

  it('maps composite keys to primary key values and back', () => {
    expect(keyValuesOf(target, 'ord[er]?:7:42')).toEqual(['7', '42']);
    expect(keyOfRow(target, ['7', '42'])).toBe('ord[er]?:7:42');
    expect(keyValuesOf(target, 'ord[er]?:7')).toBeNull();
    expect(keyValuesOf(target, 'ord[er]?:7::')).toBeNull();
  });

  it('refuses a writer the config does not name, listing those it does (exit 2)', () => {
    expect(() => writerTarget(parsed.config, 'Nope', 'c.json')).toThrow("unknown writer 'Nope': c.json names Orders");
  });
});
