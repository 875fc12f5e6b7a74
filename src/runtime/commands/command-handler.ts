/** The shape of every emulated RedisGears command: parse the argument vector, then execute against the library registry. */
import type { CallerContext } from '../gears-host.js';
import type { RespValue } from '../resp/types.js';
import type { LibraryRegistry } from './library-registry.js';

export interface GearsCommand<Parsed> {
  /** The parsed arguments, or the error reply. */
  parse(args: readonly Buffer[], caller: CallerContext): Parsed | { readonly error: RespValue };
  execute(host: LibraryRegistry, args: readonly Buffer[], caller: CallerContext): RespValue | Promise<RespValue>;
}

export function isParseError<T>(parsed: T | { readonly error: RespValue }): parsed is { readonly error: RespValue } {
  return typeof parsed === 'object' && parsed !== null && 'error' in parsed;
}

/** The text of an argument when it is valid UTF-8 (Rust's try_as_str), else null. */
export function utf8Arg(arg: Buffer): string | null {
  const text = arg.toString('utf8');
  return Buffer.from(text).equals(arg) ? text : null;
}
