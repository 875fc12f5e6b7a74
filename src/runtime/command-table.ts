/**
 * What the runtime knows about each redis-server command, read once from the backing server in `COMMAND`'s reply
 * shape (Redis 7: subcommands in the 10th field; read in pieces, command-table-read.ts). The server side asks
 * where a command's keys are and whether it may block the connection (to route it); the library host asks what
 * RM_Call would refuse (module.c with RedisGears' call options: script mode, no-writes, errors as replies). One
 * table, so both agree.
 */
import type { RespValue } from './resp/types.js';
import { textOf } from './resp/types.js';

export interface CommandInfo {
  /** Lower-case full name, `config|set` for subcommands. */
  readonly fullName: string;
  readonly arity: number;
  /** Lower-case flags: `write`, `readonly`, `blocking`, `noscript`, `movablekeys`… */
  readonly flags: ReadonlySet<string>;
  readonly firstKey: number;
  readonly lastKey: number;
  readonly keyStep: number;
  readonly subcommands: ReadonlyMap<string, CommandInfo>;
}

/**
 * Commands whose keyspace effects are not described by their key positions: they act on every key of a
 * database, or on keys named inside a script or a transaction. (MOVE and COPY … DB act on another database,
 * but under the names their key positions give, and a trigger matches names, not databases.)
 */
const UNPREDICTABLE = new Set(['exec', 'eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro', 'flushall', 'flushdb', 'swapdb', 'debug', 'restore-asking']);

/** Commands that wait on replicas, not on keys, so the server does not flag them `blocking`. */
const WAITS_ON_REPLICAS = new Set(['wait', 'waitaof']);

export class CommandTable {
  readonly #commands: ReadonlyMap<string, CommandInfo>;

  private constructor(commands: ReadonlyMap<string, CommandInfo>) {
    this.#commands = commands;
  }

  static fromCommandReply(reply: RespValue): CommandTable {
    return new CommandTable(parseEntries(reply));
  }

  /** The command (or subcommand) `args` names; undefined when the server does not know it. */
  lookup(args: readonly Buffer[], name = lowerName(args)): CommandInfo | undefined {
    const command = this.#commands.get(name);
    if (command === undefined || command.subcommands.size === 0 || args.length < 2) return command;
    return command.subcommands.get(`${name}|${args[1]!.toString('latin1').toLowerCase()}`) ?? command;
  }

  /**
   * The keys `args` (command name first) names, or null when they cannot be known from the arguments alone
   * (movable keys, scripts, transactions, cross-database commands). `name` is the lower-case command name.
   */
  keysOf(args: readonly Buffer[], name = lowerName(args)): Buffer[] | null {
    if (UNPREDICTABLE.has(name)) return null;
    const info = this.lookup(args, name);
    if (info === undefined) return []; // unknown to the server: it replies an error and touches nothing
    if (name === 'xread' || name === 'xreadgroup') return streamKeys(args);
    if (info.flags.has('movablekeys')) return null;
    if (info.firstKey <= 0) return [];
    const last = info.lastKey < 0 ? args.length + info.lastKey : info.lastKey;
    const keys: Buffer[] = [];
    for (let i = info.firstKey; i <= last && i < args.length; i += Math.max(info.keyStep, 1)) keys.push(args[i]!);
    return keys;
  }

  /** Whether the server flags the command (or its subcommand) `readonly`: it writes nothing, fires no stream trigger. */
  isReadOnly(args: readonly Buffer[], name = lowerName(args)): boolean {
    return this.lookup(args, name)?.flags.has('readonly') ?? false;
  }

  isWrite(args: readonly Buffer[]): boolean {
    return this.lookup(args)?.flags.has('write') ?? false;
  }

  /** Flagged `blocking` (BLPOP, XREAD…): library code may run it, but it must not block there. */
  isBlocking(args: readonly Buffer[]): boolean {
    return this.lookup(args)?.flags.has('blocking') ?? false;
  }

  /** Whether a client's command may leave its connection blocked in the server (BLPOP, XREAD BLOCK, WAIT...). */
  mayBlock(args: readonly Buffer[], name = lowerName(args)): boolean {
    if (WAITS_ON_REPLICAS.has(name)) return true;
    if (!(this.#commands.get(name)?.flags.has('blocking') ?? false)) return false;
    if (name !== 'xread' && name !== 'xreadgroup') return true;
    return streamOptions(args).has('block');
  }

  /** True when the server would reject `args` for their count alone (so a confirmation push never comes). */
  hasWrongArity(args: readonly Buffer[]): boolean {
    const info = this.#commands.get(lowerName(args));
    if (info === undefined) return true;
    return info.arity >= 0 ? args.length !== info.arity : args.length < -info.arity;
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
}

/** A BLOCK timeout the server takes as it is (digits only, well inside its millisecond range). */
const PLAIN_TIMEOUT = /^[0-9]{1,12}$/;

/**
 * XREAD / XREADGROUP … BLOCK <ms> without its BLOCK option: the same read, answered at once. Null for any other
 * command, or when the server could refuse the timeout (a sign, a non-number, an overflow): then the read must
 * go as written, for the server's own error.
 */
export function withoutBlock(args: readonly Buffer[]): Buffer[] | null {
  const name = lowerName(args);
  if (name !== 'xread' && name !== 'xreadgroup') return null;
  const options = streamOptions(args);
  const at = options.get('block');
  if (at === undefined || !options.has('streams') || at + 1 >= args.length) return null;
  if (!PLAIN_TIMEOUT.test(args[at + 1]!.toString('latin1'))) return null;
  return [...args.slice(0, at), ...args.slice(at + 2)];
}

/**
 * The streams XREAD / XREADGROUP name: the first half of what follows STREAMS, found by skipping the options as
 * the server does (xreadGetKeys), so that a group or consumer named "streams" is not taken for the keyword.
 * Null when the server would refuse the command (no STREAMS, an odd count): then it touches nothing, but
 * routing it as unknown costs only a marker.
 */
function streamKeys(args: readonly Buffer[]): Buffer[] | null {
  const at = streamOptions(args).get('streams');
  if (at === undefined) return null;
  const rest = args.length - at - 1;
  if (rest === 0 || rest % 2 !== 0) return null;
  return args.slice(at + 1, at + 1 + rest / 2);
}

/**
 * The options of XREAD / XREADGROUP up to STREAMS, each with its position, skipped as the server skips them
 * (xreadGetKeys): an option's value — a group or consumer named "block", say — is never taken for a keyword.
 */
function streamOptions(args: readonly Buffer[]): Map<string, number> {
  const options = new Map<string, number>();
  for (let i = 1; i < args.length; i++) {
    const word = args[i]!.toString('latin1').toLowerCase();
    options.set(word, i);
    if (word === 'streams') break;
    if (word === 'count' || word === 'block') i += 1;
    else if (word === 'group') i += 2;
  }
  return options;
}

function lowerName(args: readonly Buffer[]): string {
  return args[0]?.toString('latin1').toLowerCase() ?? '';
}

function parseEntries(reply: RespValue): Map<string, CommandInfo> {
  const out = new Map<string, CommandInfo>();
  if (reply.type !== 'array' && reply.type !== 'set') return out;
  for (const entry of reply.value) {
    if (entry.type !== 'array') continue;
    const [name, arity, flags, first, last, step, , , , subcommands] = entry.value;
    const text = name ? textOf(name) : null;
    if (text === null || arity?.type !== 'integer') continue;
    const flagSet = new Set<string>();
    if (flags && (flags.type === 'array' || flags.type === 'set')) {
      for (const flag of flags.value) {
        const flagText = textOf(flag);
        if (flagText !== null) flagSet.add(flagText.toLowerCase());
      }
    }
    const fullName = text.toLowerCase();
    out.set(fullName, {
      fullName,
      arity: Number(arity.value),
      flags: flagSet,
      firstKey: int(first),
      lastKey: int(last),
      keyStep: int(step),
      subcommands: subcommands ? parseEntries(subcommands) : new Map(),
    });
  }
  return out;
}

function int(value: RespValue | undefined): number {
  return value?.type === 'integer' ? Number(value.value) : 0;
}
