/**
 * Redis's glob (util.c stringmatchlen, case-sensitive), as ACL key patterns are matched: `*`, `?`, `[…]` with
 * `^` negation, `a-z` ranges (either order) and `\` escapes, a `\` escaping the next byte anywhere. An
 * unterminated `[` takes the rest of the pattern as its class. An empty subject matches only the empty
 * pattern (redis-server never lets a `*` match zero bytes at the end of an empty string).
 *
 * Every token other than `*` matches exactly one byte, so the classic match with backtracking to the last `*`
 * gives Redis's answers in linear time per star, where stringmatchlen recurses.
 */
const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const BACKSLASH = 0x5c;
const CARET = 0x5e;
const DASH = 0x2d;

export function redisGlobMatch(pattern: Uint8Array, subject: Uint8Array): boolean {
  if (subject.length === 0) return pattern.length === 0;
  let p = 0;
  let s = 0;
  /** Where to resume after the last `*`: the pattern index after it and the subject index it took up to. */
  let starP = -1;
  let starS = 0;
  while (s < subject.length) {
    if (p < pattern.length && pattern[p] === STAR) {
      while (p < pattern.length && pattern[p] === STAR) p++;
      starP = p;
      starS = s;
      continue;
    }
    const next = p < pattern.length ? matchOne(pattern, p, subject[s]!) : -1;
    if (next >= 0) {
      p = next;
      s++;
      continue;
    }
    if (starP < 0) return false;
    // The last star takes one more byte.
    p = starP;
    s = ++starS;
  }
  while (p < pattern.length && pattern[p] === STAR) p++;
  return p === pattern.length;
}

/** If the token at `p` (not a star) matches `byte`: the index after the token, else -1. */
function matchOne(pattern: Uint8Array, p: number, byte: number): number {
  const token = pattern[p]!;
  if (token === QUESTION) return p + 1;
  if (token === OPEN) return matchClass(pattern, p + 1, byte);
  if (token === BACKSLASH && p + 1 < pattern.length) return pattern[p + 1] === byte ? p + 2 : -1;
  return token === byte ? p + 1 : -1;
}

function matchClass(pattern: Uint8Array, start: number, byte: number): number {
  let i = start;
  const negated = pattern[i] === CARET;
  if (negated) i++;
  let matched = false;
  for (;;) {
    if (i >= pattern.length) break; // unterminated: the class ends with the pattern
    const c = pattern[i]!;
    if (c === BACKSLASH && i + 1 < pattern.length) {
      if (pattern[i + 1] === byte) matched = true;
      i += 2;
    } else if (c === CLOSE) {
      i++;
      break;
    } else if (i + 2 < pattern.length && pattern[i + 1] === DASH) {
      const low = Math.min(c, pattern[i + 2]!);
      const high = Math.max(c, pattern[i + 2]!);
      if (byte >= low && byte <= high) matched = true;
      i += 3;
    } else {
      if (c === byte) matched = true;
      i++;
    }
  }
  return matched !== negated ? i : -1;
}
