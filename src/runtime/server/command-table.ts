/**
 * What the runtime needs to know about each redis-server command to decide how to run it: where its keys are
 * (from COMMAND's first/last/step, fetched once at start), and whether its effects can be predicted from its
 * keys at all. A command whose keys match no trigger prefix cannot fire a trigger, so it needs neither the
 * exclusive lock nor an ordering marker; that is what keeps the plain proxy path fast.
 */
import type { RespValue } from '../resp/types.js';
import { textOf } from '../resp/types.js';

interface CommandInfo {
  readonly arity: number;
  readonly movableKeys: boolean;
  /** Flagged `readonly` by the server: it writes nothing, so it can fire no stream trigger. */
  readonly readOnly: boolean;
  readonly firstKey: number;
  readonly lastKey: number;
  readonly keyStep: number;
  readonly subcommands: ReadonlyMap<string, CommandInfo>;
}

/**
 * Commands whose keyspace effects are not described by their key positions: they act on other databases, on
 * every key, or on keys named inside a script or a transaction.
 */
const UNPREDICTABLE = new Set(['exec', 'eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro', 'flushall', 'flushdb', 'swapdb', 'move', 'copy', 'debug', 'restore-asking']);

/** Commands that may block the connection until another client acts (XREAD/XREADGROUP only with BLOCK). */
const BLOCKING = new Set(['blpop', 'brpop', 'brpoplpush', 'blmove', 'blmpop', 'bzpopmin', 'bzpopmax', 'bzmpop', 'wait', 'waitaof']);

export class CommandTable {
  readonly #commands: ReadonlyMap<string, CommandInfo>;

  private constructor(commands: ReadonlyMap<string, CommandInfo>) {
    this.#commands = commands;
  }

  /** Builds the table from the reply of `COMMAND` (Redis 7 shape: subcommands in the 10th field). */
  static fromCommandReply(reply: RespValue): CommandTable {
    return new CommandTable(parseEntries(reply));
  }

  /**
   * The keys `args` (command name first) names, or null when they cannot be known from the arguments alone
   * (movable keys, scripts, transactions, cross-database commands). `name` is the lower-case command name.
   */
  keysOf(args: readonly Buffer[], name = args[0]!.toString('latin1').toLowerCase()): Buffer[] | null {
    if (UNPREDICTABLE.has(name)) return null;
    const info = this.#info(args, name);
    if (info === undefined) return []; // unknown to the server: it replies an error and touches nothing
    if (info.movableKeys) return null;
    if (info.firstKey <= 0) return [];
    const last = info.lastKey < 0 ? args.length + info.lastKey : info.lastKey;
    const keys: Buffer[] = [];
    for (let i = info.firstKey; i <= last && i < args.length; i += Math.max(info.keyStep, 1)) keys.push(args[i]!);
    return keys;
  }

  /** Whether the server flags the command (or its subcommand) `readonly`. */
  isReadOnly(args: readonly Buffer[], name = args[0]!.toString('latin1').toLowerCase()): boolean {
    return this.#info(args, name)?.readOnly ?? false;
  }

  /** True when the server would reject `args` for their count alone (so a confirmation push never comes). */
  hasWrongArity(args: readonly Buffer[]): boolean {
    const info = this.#commands.get(args[0]!.toString('latin1').toLowerCase());
    if (info === undefined) return true;
    return info.arity >= 0 ? args.length !== info.arity : args.length < -info.arity;
  }

  #info(args: readonly Buffer[], name: string): CommandInfo | undefined {
    const info = this.#commands.get(name);
    if (info === undefined || info.subcommands.size === 0 || args.length < 2) return info;
    return info.subcommands.get(`${name}|${args[1]!.toString('latin1').toLowerCase()}`) ?? info;
  }

  /** Whether the command may leave the connection blocked in the server (BLPOP, XREAD BLOCK, WAIT...). */
  static mayBlock(name: string, args: readonly Buffer[]): boolean {
    if (BLOCKING.has(name)) return true;
    if (name !== 'xread' && name !== 'xreadgroup') return false;
    for (let i = 1; i < args.length; i++) {
      const word = args[i]!.toString('latin1').toLowerCase();
      if (word === 'block') return true;
      if (word === 'streams') return false;
    }
    return false;
  }
}

function parseEntries(reply: RespValue): Map<string, CommandInfo> {
  const out = new Map<string, CommandInfo>();
  if (reply.type !== 'array' && reply.type !== 'set') return out;
  for (const entry of reply.value) {
    if (entry.type !== 'array') continue;
    const [name, arity, flags, first, last, step, , , , subcommands] = entry.value;
    const text = name ? textOf(name) : null;
    if (text === null) continue;
    const flagList = flags && (flags.type === 'array' || flags.type === 'set') ? flags.value.map((f) => textOf(f)) : [];
    out.set(text.toLowerCase(), {
      arity: int(arity),
      movableKeys: flagList.includes('movablekeys'),
      readOnly: flagList.includes('readonly'),
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
