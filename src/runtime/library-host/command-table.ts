/**
 * What RM_Call checks before it runs a command for library code (module.c, RedisGears' call options: script
 * mode, no-writes, errors as replies): the command exists, its arity, `noscript` refused, `write` refused
 * for no-writes callers. Read once from the backing server's COMMAND reply.
 */
import type { RespValue } from '../resp/types.js';
import { textOf } from '../resp/types.js';

export interface CommandInfo {
  /** Lower-case full name, `config|set` for subcommands. */
  readonly fullName: string;
  readonly arity: number;
  readonly flags: ReadonlySet<string>;
  readonly subcommands: ReadonlyMap<string, CommandInfo>;
}

export class CommandTable {
  readonly #commands: ReadonlyMap<string, CommandInfo>;

  constructor(commandReply: RespValue) {
    const commands = new Map<string, CommandInfo>();
    if (commandReply.type === 'array' || commandReply.type === 'set') {
      for (const entry of commandReply.value) {
        const info = parseInfo(entry);
        if (info) commands.set(info.fullName, info);
      }
    }
    this.#commands = commands;
  }

  /** The command (or subcommand) `args` names; null when unknown. */
  lookup(args: readonly Buffer[]): CommandInfo | null {
    const name = args[0]?.toString('utf8').toLowerCase() ?? '';
    const command = this.#commands.get(name);
    if (!command) return null;
    if (command.subcommands.size === 0 || args.length < 2) return command;
    return command.subcommands.get(`${name}|${args[1]!.toString('utf8').toLowerCase()}`) ?? command;
  }

  /** The error RM_Call gives for this command (null when it may run), as the text of an error reply. */
  refusal(args: readonly Buffer[], options: { readonly noWrites: boolean }): string | null {
    const command = this.lookup(args);
    const name = args[0]?.toString('utf8') ?? '';
    if (!command) return `ERR Unknown Redis command '${name}'.`;
    if ((command.arity > 0 && args.length !== command.arity) || args.length < -command.arity) {
      return `ERR Wrong number of args calling Redis command '${name}'.`;
    }
    // Redis 7.0 flags blocking commands (BLPOP…) noscript; 7.2, which RedisGears 2 runs on, lets scripts and
    // module calls run them (they just do not block), and RedisGears' callAsync('blpop', …) relies on that.
    if (command.flags.has('noscript') && !command.flags.has('blocking')) return `ERR command '${command.fullName}' is not allowed on script mode`;
    if (options.noWrites && command.flags.has('write')) {
      return `ERR Write command '${command.fullName}' was called while write is not allowed.`;
    }
    return null;
  }

  /** Blocking commands (BLPOP, XREAD BLOCK…) must not block when called from library code. */
  isBlocking(args: readonly Buffer[]): boolean {
    return this.lookup(args)?.flags.has('blocking') ?? false;
  }

  isWrite(args: readonly Buffer[]): boolean {
    return this.lookup(args)?.flags.has('write') ?? false;
  }
}

function parseInfo(entry: RespValue): CommandInfo | null {
  if (entry.type !== 'array') return null;
  const [name, arity, flags, , , , , , , subcommands] = entry.value;
  const fullName = name ? textOf(name) : null;
  if (fullName === null || arity?.type !== 'integer') return null;
  const flagSet = new Set<string>();
  if (flags && (flags.type === 'array' || flags.type === 'set')) {
    for (const flag of flags.value) {
      const text = textOf(flag);
      if (text !== null) flagSet.add(text.toLowerCase());
    }
  }
  const subs = new Map<string, CommandInfo>();
  if (subcommands && subcommands.type === 'array') {
    for (const sub of subcommands.value) {
      const info = parseInfo(sub);
      if (info) subs.set(info.fullName, info);
    }
  }
  return { fullName: fullName.toLowerCase(), arity: Number(arity.value), flags: flagSet, subcommands: subs };
}
