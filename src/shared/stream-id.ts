/**
 * Stream ids ("ms-seq"), the one module for the library (bundled into gears: no Node APIs), the worker and the
 * CLI and the runtime. Ids compare as numbers, never as strings ("10-0" follows "9-0"). The pair form is what a RedisGears
 * stream trigger hands the library (`[ms, seq]` as BigInts).
 */

/** An id as its two numbers. */
export type StreamId = readonly [ms: bigint, seq: bigint];

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

/** Digits a Number holds exactly (2^53 has 16): below it, parts compare without BigInt. */
const EXACT_DIGITS = 15;

const MAX_SEQ = 2n ** 64n - 1n;

/** Parses "ms-seq" ("ms" alone means seq 0) into its numbers. */
export function parseStreamId(id: string): StreamId {
  const dash = id.indexOf('-');
  if (dash < 0) return [BigInt(id), 0n];
  return [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))];
}

/** The "ms-seq" form of a pair. */
export function formatStreamId(id: StreamId): string {
  return `${id[0]}-${id[1]}`;
}

/** True for a complete id "ms-seq" (the only form the library accepts from callers). */
export function isStreamId(value: string): boolean {
  return STREAM_ID.test(value);
}

/** The milliseconds part of an id. */
export function streamIdMs(id: string): number {
  const dash = id.indexOf('-');
  return Number(dash < 0 ? id : id.slice(0, dash));
}

/** <0, 0, >0 as `a` is before, equal to, or after `b`. Called per record on the worker's hot path: no BigInt there. */
export function compareStreamIds(a: string, b: string): number {
  const ad = a.indexOf('-');
  const bd = b.indexOf('-');
  const ams = ad < 0 ? a : a.slice(0, ad);
  const bms = bd < 0 ? b : b.slice(0, bd);
  const byMs = compareNumbers(ams, bms);
  if (byMs !== 0) return byMs;
  return compareNumbers(ad < 0 ? '0' : a.slice(ad + 1), bd < 0 ? '0' : b.slice(bd + 1));
}

/** The smallest id greater than `id`: XTRIM MINID with it removes everything up to and including `id`. */
export function nextStreamId(id: string): string {
  const [ms, seq] = parseStreamId(id);
  return `${ms}-${seq + 1n}`;
}

/** The greatest id smaller than `id` (a seq of 0 borrows from the ms), or null for "0-0": where a reader resumes after. */
export function previousStreamId(id: string): string | null {
  const [ms, seq] = parseStreamId(id);
  if (seq > 0n) return `${ms}-${seq - 1n}`;
  return ms > 0n ? `${ms - 1n}-${MAX_SEQ}` : null;
}

function compareNumbers(a: string, b: string): number {
  if (a.length <= EXACT_DIGITS && b.length <= EXACT_DIGITS) return Number(a) - Number(b);
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
