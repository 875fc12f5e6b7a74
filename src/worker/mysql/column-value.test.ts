import { describe, expect, it } from 'vitest';
import { columnValueCheck, parseDecimal, type ColumnType } from './column-value.js';

const type = (dataType: string, extra: Partial<ColumnType> = {}): ColumnType => ({ dataType, unsigned: false, precision: null, scale: null, ...extra });
const fits = (t: ColumnType, role: 'key' | 'value', texts: string[]) => texts.filter((text) => columnValueCheck(t, role)!(text) === undefined);

describe('columnValueCheck', () => {
  it('integer keys: only the canonical text, in range (UNSIGNED included)', () => {
    expect(fits(type('bigint'), 'key', ['0', '1', '-1', '2.0', ' 1', '1 ', '01', '+1', '-0', '1abc', '1e0', '', '9223372036854775807', '9223372036854775808', '-9223372036854775808', '-9223372036854775809']))
      .toEqual(['0', '1', '-1', '9223372036854775807', '-9223372036854775808']);
    expect(fits(type('bigint', { unsigned: true }), 'key', ['18446744073709551615', '18446744073709551616', '-1', '0'])).toEqual(['18446744073709551615', '0']);
    expect(fits(type('tinyint'), 'key', ['127', '128', '-128', '-129'])).toEqual(['127', '-128']);
  });

  it('integer values: any decimal notation of an integer in range; never rounded', () => {
    expect(fits(type('int'), 'value', ['17', '+17', '017', '17.0', '17.000', '1.7e1', '1e3', '16.5', '17.01', '2147483647', '2147483648', '-2147483648', 'abc', '', ' 1', '1e400', '.5', '5.']))
      .toEqual(['17', '+17', '017', '17.0', '17.000', '1.7e1', '1e3', '2147483647', '-2147483648', '5.']);
    expect(columnValueCheck(type('int'), 'value')!('16.5')).toContain('would round it');
  });

  it('integer values and keys at the edges of their range, short and long texts alike', () => {
    expect(fits(type('tinyint'), 'value', ['127', '128', '-128', '-129', '0127', '-0', '-000000000000129'])).toEqual(['127', '-128', '0127', '-0']);
    expect(fits(type('int', { unsigned: true }), 'value', ['-0', '-1', '0', '4294967295', '4294967296', '000000000000001'])).toEqual(['-0', '0', '4294967295', '000000000000001']);
    expect(fits(type('bigint'), 'value', ['999999999999999', '-999999999999999', '9223372036854775807', '9223372036854775808'])).toEqual(['999999999999999', '-999999999999999', '9223372036854775807']);
    expect(fits(type('int'), 'key', ['2147483647', '2147483648', '-2147483648', '-2147483649'])).toEqual(['2147483647', '-2147483648']);
    expect(columnValueCheck(type('tinyint'), 'value')!('128')).toContain("out of the column's range -128..127");
  });

  it('DECIMAL(p,s) values fit without rounding; keys are shown as MySQL shows them', () => {
    const price = type('decimal', { precision: 6, scale: 2 });
    expect(fits(price, 'value', ['1.23', '1.230', '1.234', '9999.99', '10000', '-9999.99', '0.5', '-0.5', '1e-2', '1e-3', 'x'])).toEqual(['1.23', '1.230', '9999.99', '-9999.99', '0.5', '-0.5', '1e-2']);
    expect(fits(price, 'key', ['1.50', '1.5', '01.50', '-0.00', '0.00', '-2.25', '+2.25', '2'])).toEqual(['1.50', '0.00', '-2.25']);
    expect(fits(type('decimal', { precision: 5, scale: 0 }), 'key', ['12', '12.0', '-0', '0'])).toEqual(['12', '0']);
    expect(fits(type('decimal', { precision: 5, scale: 2, unsigned: true }), 'value', ['1', '-1', '-0'])).toEqual(['1', '-0']);
  });

  it('DATE keys: YYYY-MM-DD of a real day', () => {
    expect(fits(type('date'), 'key', ['2024-01-05', '2024-1-5', '2024-01-05 00:00:00', '20240105', '2024-02-29', '2023-02-29', '2024-13-01', '2024-04-31'])).toEqual(['2024-01-05', '2024-02-29']);
  });

  it('leaves other types to strict mode', () => {
    expect(columnValueCheck(type('double'), 'value')).toBeUndefined();
    expect(columnValueCheck(type('varchar'), 'key')).toBeUndefined();
    expect(columnValueCheck(type('date'), 'value')).toBeUndefined();
  });
});

describe('parseDecimal', () => {
  it('keeps the exact value', () => {
    expect(parseDecimal('-12.3400e1')).toEqual({ negative: true, integer: -123n, fraction: '4' });
    expect(parseDecimal('1.5e-2')).toEqual({ negative: false, integer: 0n, fraction: '015' });
    expect(parseDecimal('.')).toBeUndefined();
  });
});
