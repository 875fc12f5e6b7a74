/**
 * Whether a text value fits its column exactly, decided before MySQL sees it. Strict SQL mode rejects text
 * that is not a number, but it rounds `'16.5'` into an INT column and reads `'1abc'`, `' 1'` or `'2.0'` as
 * numbers with only a warning or a note. A changed value is wrong data; a changed key id writes (or deletes)
 * another row. So:
 * - a **key** must be the canonical text of its column's value, the text MySQL itself shows for it, so that two
 *   distinct ids are never one row: integers `-?[0-9]+` without leading zeros (no `-0`) in the column's range,
 *   `DECIMAL(p,s)` with exactly `s` decimals, `DATE` as `YYYY-MM-DD` of a real day;
 * - a **value** of an integer or DECIMAL column must be a number in decimal notation (sign, fraction and
 *   exponent allowed) whose exact value the column holds without rounding.
 * Other types are left to strict mode: FLOAT/DOUBLE round by nature, and ENUM, SET, BIT, dates and strings
 * are rejected by MySQL when they do not fit.
 *
 * @internal
 */

/** What the check needs of a column (from information_schema). */
export interface ColumnType {
  /** DATA_TYPE, lower case: `int`, `decimal`, `date`, … */
  readonly dataType: string;
  readonly unsigned: boolean;
  /** NUMERIC_PRECISION and NUMERIC_SCALE (DECIMAL). */
  readonly precision: number | null;
  readonly scale: number | null;
}

/** Bits of each integer type. */
const INTEGER_BITS: Readonly<Record<string, number>> = { tinyint: 8, smallint: 16, mediumint: 24, int: 32, integer: 32, bigint: 64 };

const CANONICAL_INTEGER = /^(0|-?[1-9][0-9]*)$/;
const NUMBER = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]{1,4}))?$/;
const CANONICAL_DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
/** Integer text a Number holds exactly (15 digits < 2^53): checked without BigInt or parsing objects, per value on the hot path. */
const SHORT_INTEGER = /^-?[0-9]{1,15}$/;

/** A checker for the column's values, or undefined when MySQL's strict mode is left to judge them. */
export type ValueCheck = (text: string) => string | undefined;

/**
 * The check for keys (`role: 'key'`) or values of a column of this type; returns a reason when the text does
 * not fit, undefined when it does.
 */
export function columnValueCheck(type: ColumnType, role: 'key' | 'value'): ValueCheck | undefined {
  const bits = INTEGER_BITS[type.dataType];
  if (bits !== undefined) {
    const [min, max] = integerRange(bits, type.unsigned);
    const range = `${min}..${max}`;
    // Bounds as Numbers, rounded outward: a short integer beyond them is beyond the exact bounds too, and one
    // within them is checked exactly against the BigInt bounds only when it lies at the rounded edge.
    const low = Number(min);
    const high = Number(max);
    const fits = (text: string) => {
      const n = Number(text);
      return n > low && n < high ? true : inRange(BigInt(text), min, max);
    };
    if (role === 'key') {
      return (text) => (CANONICAL_INTEGER.test(text) && (text.length <= 15 ? fits(text) : inRange(BigInt(text), min, max)) ? undefined : `'${clip(text)}' is not an integer id in ${range} written canonically (no sign '+', spaces, leading zeros or decimals)`);
    }
    return (text) => {
      if (SHORT_INTEGER.test(text)) return fits(text) ? undefined : `'${clip(text)}' is out of the column's range ${range}`;
      const number = parseDecimal(text);
      if (number === undefined) return `'${clip(text)}' is not a number`;
      if (number.fraction !== '') return `'${clip(text)}' is not an integer: the column would round it`;
      return inRange(number.integer, min, max) ? undefined : `'${clip(text)}' is out of the column's range ${range}`;
    };
  }
  if (type.dataType === 'decimal' || type.dataType === 'numeric') {
    const scale = type.scale ?? 0;
    const integerDigits = (type.precision ?? 10) - scale;
    const shape = `DECIMAL(${type.precision ?? 10},${scale})`;
    return (text) => {
      const number = parseDecimal(text);
      if (number === undefined) return `'${clip(text)}' is not a number`;
      if (number.fraction.length > scale) return `'${clip(text)}' has more than ${scale} decimals: ${shape} would round it`;
      const digits = number.integer < 0n ? -number.integer : number.integer;
      if (digits !== 0n && digits.toString().length > integerDigits) return `'${clip(text)}' does not fit ${shape}`;
      if (type.unsigned && number.negative && (number.integer !== 0n || number.fraction !== '')) return `'${clip(text)}' is negative and the column is UNSIGNED`;
      if (role === 'key' && text !== canonicalDecimal(number, scale)) return `'${clip(text)}' is not a ${shape} id written canonically (as MySQL shows it: '${canonicalDecimal(number, scale)}')`;
      return undefined;
    };
  }
  if (type.dataType === 'date' && role === 'key') {
    return (text) => (isCanonicalDate(text) ? undefined : `'${clip(text)}' is not a date id written canonically (YYYY-MM-DD, a real day)`);
  }
  return undefined;
}

function integerRange(bits: number, unsigned: boolean): [bigint, bigint] {
  return unsigned ? [0n, (1n << BigInt(bits)) - 1n] : [-(1n << BigInt(bits - 1)), (1n << BigInt(bits - 1)) - 1n];
}

function inRange(value: bigint, min: bigint, max: bigint): boolean {
  return value >= min && value <= max;
}

interface Decimal {
  readonly negative: boolean;
  /** Integer part, signed. */
  readonly integer: bigint;
  /** Significant decimals (trailing zeros dropped). */
  readonly fraction: string;
}

/** The exact value of a number in decimal notation, or undefined when the text is not one. */
export function parseDecimal(text: string): Decimal | undefined {
  const match = NUMBER.exec(text);
  if (match === null) return undefined;
  const [, sign, whole = '', part = '', exponentText] = match;
  if (whole === '' && part === '') return undefined;
  const exponent = exponentText === undefined ? 0 : Number(exponentText);
  // Move the point by the exponent; the digits stay exact.
  let digits = whole + part;
  let point = whole.length + exponent;
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  } else if (point > digits.length) {
    if (point > 400) return undefined; // beyond every numeric column, and BigInt of it is costly
    digits += '0'.repeat(point - digits.length);
  }
  const negative = sign === '-';
  const magnitude = BigInt(digits.slice(0, point) || '0');
  return { negative, integer: negative ? -magnitude : magnitude, fraction: digits.slice(point).replace(/0+$/, '') };
}

/** How MySQL shows a DECIMAL(p, scale) value: no leading zeros, exactly `scale` decimals, no negative zero. */
function canonicalDecimal(number: Decimal, scale: number): string {
  const magnitude = number.integer < 0n ? -number.integer : number.integer;
  const zero = magnitude === 0n && number.fraction === '';
  const sign = number.negative && !zero ? '-' : '';
  return scale === 0 ? `${sign}${magnitude}` : `${sign}${magnitude}.${number.fraction.padEnd(scale, '0')}`;
}

function isCanonicalDate(text: string): boolean {
  const match = CANONICAL_DATE.exec(text);
  if (match === null) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= days;
}

/** Long values are cut in messages: a reason names the value, it does not carry it. */
function clip(text: string): string {
  return text.length <= 40 ? text : `${text.slice(0, 40)}…`;
}
