/**
 * A reply stream cut into its top-level replies (RESP2 and RESP3), for cases whose replies are matched to the
 * pieces that asked for them (FuzzCase.oneReplyEach): a TF* command's reply is left out of the comparison, the
 * others must be the same bytes. Push messages (`>`) count as replies too; the cases that use this have none.
 */

/** The end offset of the value at `offset`, or undefined when the bytes stop before it does (or are no RESP). */
function valueEnd(bytes: Buffer, offset: number): number | undefined {
  const lineEnd = bytes.indexOf('\r\n', offset, 'latin1');
  if (lineEnd < 0 || offset >= bytes.length) return undefined;
  const type = String.fromCharCode(bytes[offset]!);
  const header = bytes.toString('latin1', offset + 1, lineEnd);
  const after = lineEnd + 2;
  switch (type) {
    case '+': case '-': case ':': case '_': case ',': case '#': case '(':
      return after;
    case '$': case '!': case '=': {
      const length = Number(header);
      if (!Number.isInteger(length)) return undefined;
      if (length < 0) return after;
      return after + length + 2 <= bytes.length ? after + length + 2 : undefined;
    }
    case '*': case '~': case '>': case '%': case '|': {
      const count = Number(header);
      if (!Number.isInteger(count)) return undefined;
      let at: number | undefined = after;
      for (let i = 0; i < Math.max(count, 0) * (type === '%' || type === '|' ? 2 : 1) && at !== undefined; i++) at = valueEnd(bytes, at);
      // An attribute is followed by the value it describes: one reply with it.
      return type === '|' && at !== undefined ? valueEnd(bytes, at) : at;
    }
    default:
      return undefined;
  }
}

/** The complete top-level replies in `bytes`, and what is left after them (an incomplete or unparsable tail). */
export function splitReplies(bytes: Buffer): { replies: Buffer[]; rest: Buffer } {
  const replies: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const end = valueEnd(bytes, offset);
    if (end === undefined) break;
    replies.push(bytes.subarray(offset, end));
    offset = end;
  }
  return { replies, rest: bytes.subarray(offset) };
}
