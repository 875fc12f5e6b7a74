/**
 * An inline command line split as redis-server splits it (sdssplitargs in sds.c): words separated by spaces,
 * double quotes with C escapes (`\n`, `\x41`...), single quotes with only `\'`. A closing quote must be followed
 * by a space or the end of the line. Returns null for unbalanced quotes (redis-server's protocol error).
 */
const ESCAPES: Record<number, number> = { 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x62: 0x08, 0x61: 0x07 };

export function splitInlineArgs(line: Buffer): Buffer[] | null {
  const args: Buffer[] = [];
  const end = line.indexOf(0) < 0 ? line.length : line.indexOf(0); // the C string ends at a NUL
  let p = 0;
  for (;;) {
    while (p < end && isSpace(line[p]!)) p++;
    if (p >= end) return args;
    const word: number[] = [];
    /** The open quote (0x22 or 0x27), or 0 outside quotes. */
    let quote = 0;
    for (let done = false; !done; ) {
      const c = p < end ? line[p]! : -1;
      if (quote !== 0) {
        const escape = c === 0x5c ? escapeAt(line, p, end, quote) : null;
        if (escape) {
          word.push(escape.byte);
          p = escape.last;
        } else if (c === quote) {
          if (p + 1 < end && !isSpace(line[p + 1]!)) return null;
          done = true;
        } else if (c === -1) {
          return null;
        } else {
          word.push(c);
        }
      } else if (c === -1 || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        done = true;
      } else if (c === 0x22 || c === 0x27) {
        quote = c;
      } else {
        word.push(c);
      }
      if (p < end) p++;
    }
    args.push(Buffer.from(word));
  }
}

/**
 * The escape starting at the backslash at `p` inside `quote`: the byte it stands for and the index of its last
 * character, or null when it is no escape (the backslash is then an ordinary character). Double quotes take C
 * escapes and `\xHH`; single quotes only `\'`.
 */
function escapeAt(line: Buffer, p: number, end: number, quote: number): { byte: number; last: number } | null {
  if (p + 1 >= end) return null;
  const next = line[p + 1]!;
  if (quote === 0x27) return next === 0x27 ? { byte: 0x27, last: p + 1 } : null;
  if (next === 0x78 && p + 3 < end && isHex(line[p + 2]!) && isHex(line[p + 3]!)) {
    return { byte: parseInt(String.fromCharCode(line[p + 2]!, line[p + 3]!), 16), last: p + 3 };
  }
  return { byte: ESCAPES[next] ?? next, last: p + 1 };
}

/** C isspace: space, \t, \n, \v, \f, \r. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}
