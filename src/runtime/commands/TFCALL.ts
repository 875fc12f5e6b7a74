/**
 * TFCALL <library>.<function> <numkeys> [keys…] [args…] (lib.rs function_call_command): arity -3, then the
 * name split, numkeys, library and function lookup, the argument count; blocking is never allowed.
 */
import type { CallerContext } from '../gears-host.js';
import { error, type RespValue } from '../resp/types.js';
import { FUNCTION_FLAGS } from '../library-host/library.js';
import { FUNCTION_ON_REPLICA } from '../replication/replica-refusals.js';
import type { LibraryRegistry } from './library-registry.js';
import { isParseError, utf8Arg, type GearsCommand } from './command-handler.js';

export interface FunctionCallArgs {
  readonly library: string;
  readonly function: string;
  readonly args: readonly Buffer[];
}

export function parseFunctionCall(command: 'tfcall' | 'tfcallasync', args: readonly Buffer[]): FunctionCallArgs | { readonly error: RespValue } {
  if (args.length < 2) return { error: error(`ERR wrong number of arguments for '${command}' command`) };
  const name = utf8Arg(args[0]!);
  if (name === null) return { error: error("Couldn't parse as UTF-8 string") };
  const [library, fn] = name.split('.');
  if (fn === undefined) return { error: error('Failed extracting function name') };
  const numkeysText = utf8Arg(args[1]!) ?? '';
  const numkeys = parseUsize(numkeysText);
  if (typeof numkeys === 'string') return { error: error(numkeys) };
  return { library: library!, function: fn, args: args.slice(2), numkeys } as FunctionCallArgs & { numkeys: number };
}

/** Rust's `str::parse::<usize>()` and its error texts. */
function parseUsize(text: string): number | string {
  if (text.length === 0) return 'cannot parse integer from empty string';
  if (!/^\+?[0-9]+$/.test(text) || text === '+') return 'invalid digit found in string';
  const value = BigInt(text.replace('+', ''));
  if (value > 18446744073709551615n) return 'number too large to fit in target type';
  return Number(value);
}

export function executeFunctionCall(host: LibraryRegistry, parsed: FunctionCallArgs, allowBlock: boolean, caller: CallerContext): RespValue | Promise<RespValue> {
  const found = host.functions.find(parsed.library, parsed.function);
  if ('type' in found) return found;
  if (host.isReplica && !found.registered.flags.has(FUNCTION_FLAGS.NO_WRITES)) return error(FUNCTION_ON_REPLICA);
  const numkeys = (parsed as FunctionCallArgs & { numkeys: number }).numkeys;
  if (parsed.args.length < numkeys) {
    return error(`Not enough arguments was given, expected at least ${numkeys} arguments, got ${parsed.args.length} arguments.`);
  }
  return host.functions.run(found.entry, found.registered, { library: parsed.library, function: parsed.function, args: parsed.args, allowBlock }, caller);
}

export const TFCALL: GearsCommand<FunctionCallArgs> = {
  parse: (args) => parseFunctionCall('tfcall', args),
  execute(host, args, caller) {
    const parsed = TFCALL.parse(args, caller);
    if (isParseError(parsed)) return parsed.error;
    return executeFunctionCall(host, parsed, false, caller);
  },
};
