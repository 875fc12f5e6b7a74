/** Rust's `str::escape_default` (how RedisGears logs `redis.log` messages): printable ASCII kept, \t \r \n \' \" \\ escaped, the rest as \u{hex}. */
export function escapeDefault(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '\t') out += '\\t';
    else if (char === '\r') out += '\\r';
    else if (char === '\n') out += '\\n';
    else if (char === "'" || char === '"' || char === '\\') out += `\\${char}`;
    else if (code >= 0x20 && code <= 0x7e) out += char;
    else out += `\\u{${code.toString(16)}}`;
  }
  return out;
}
