/**
 * The special `#` field of the seed: its value is a flag character, optionally followed by the uuid of a
 * requested acknowledgement (`=6ce0c902-...`).
 *
 * | flag | in Redis            | in the target |
 * |------|---------------------|---------------|
 * | `=`  | keep (the default)  | replicate     |
 * | `+`  | keep                | no change     |
 * | `-`  | delete the key      | no change     |
 * | `~`  | delete the key      | delete        |
 */

export type Flag = '=' | '+' | '-' | '~';

export type FlagDirective =
  | { readonly ok: true; readonly flag: Flag; readonly uuid: string | null }
  | { readonly ok: false; readonly reason: string; readonly uuid: string | null };

/** What a hash without a `#` field means: replicate, no acknowledgement. */
export const DEFAULT_DIRECTIVE: FlagDirective = Object.freeze({ ok: true, flag: '=', uuid: null });

const FLAGS: ReadonlySet<string> = new Set<Flag>(['=', '+', '-', '~']);

/** Parses a decoded `#` value. The flag is the first character (code point); an empty rest means no uuid. */
export function parseFlag(value: string): FlagDirective {
  const first = value.codePointAt(0);
  const flag = first === undefined ? '' : String.fromCodePoint(first);
  const rest = value.slice(flag.length);
  const uuid = rest === '' ? null : rest;
  if (FLAGS.has(flag)) return { ok: true, flag: flag as Flag, uuid };
  return { ok: false, reason: `unknown '#' flag '${flag}'`, uuid };
}

/** True when the flag removes the key from Redis. */
export function flagDeletesKey(flag: Flag): boolean {
  return flag === '-' || flag === '~';
}

/** True when the flag sends the change to the target. */
export function flagReplicates(flag: Flag): boolean {
  return flag === '=' || flag === '~';
}
