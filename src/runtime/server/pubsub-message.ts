/**
 * The parts of a RESP2 pub/sub message frame (`message`, `pmessage`; not a subscription confirmation, whose count is an integer): a multibulk of
 * bulk strings, read from the frame's bytes as views of them. The keyspace subscription receives one such frame
 * per watched key a write touches, so it is read without building a decoded value per frame.
 */

const CR = 13;
/** Where the line lineNumber read ends (after its CRLF): a variable, not a returned pair, to allocate nothing. */
let afterLine = 0;

/** The bulks of a complete RESP2 frame `*<n>` of `$` bulks, as views of `raw`; null for any other frame. */
export function pubsubMessageParts(raw: Buffer): Buffer[] | null {
  if (raw[0] !== 0x2a) return null;
  const count = lineNumber(raw, 1);
  if (count < 0) return null;
  let offset = afterLine;
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    if (raw[offset] !== 0x24) return null;
    const length = lineNumber(raw, offset + 1);
    const start = afterLine;
    if (length < 0 || start + length + 2 > raw.length) return null;
    parts.push(raw.subarray(start, start + length));
    offset = start + length + 2;
  }
  return parts;
}

/** The non-negative decimal number from `offset` to the next CRLF (afterLine: past it); -1 when there is none. */
function lineNumber(raw: Buffer, offset: number): number {
  let n = 0;
  let i = offset;
  for (; i < raw.length && raw[i] !== CR; i++) {
    const digit = raw[i]! - 0x30;
    if (digit < 0 || digit > 9) return -1;
    n = n * 10 + digit;
  }
  if (i === offset || i + 1 >= raw.length) return -1;
  afterLine = i + 2;
  return n;
}
