/**
 * Decides, per client command, how the runtime runs it. Pure: it reads the command, the connection's mode and
 * the command table, and sends nothing. The routes:
 * - shared: its keys match no trigger prefix, so it cannot fire anything: passed through under a shared hold of
 *   the execution lock, consecutive ones together, replies forwarded as they come.
 * - markered: it may fire a trigger: sent under the exclusive lock with a marker behind it (see marker-fence.ts).
 * - gears / queue-gears: TFUNCTION, TFCALL, TFCALLASYNC, answered by the library host (queued inside MULTI).
 * - exec: EXEC, replayed by the runtime when the transaction holds TF commands.
 * - tracked: changes state the session follows (HELLO, AUTH, SELECT, MULTI, WATCH, RESET...).
 * - blocking: BLPOP and friends, which must not hold the lock while blocked.
 * - pubsub / monitor / raw: subscribed (RESP2) and MONITOR connections, forwarded as a stream.
 * - client-reply: answered by the runtime (emulated).
 * - replication: SYNC / PSYNC, after which the connection is a byte pipe to the server (replication-pipe.ts).
 * - unlocked: what a busy or paused server still runs (SCRIPT KILL…), which the lock must not hold back, and
 *   CLIENT PAUSE.
 * - client-kill, introspect: passed through with the runtime's own connections and traffic kept out (INFO's
 *   tracking_clients among them).
 */
import type { CommandTable } from '../command-table.js';
import { gearsCommandName } from '../commands/index.js';
import { TRACKED } from './session.js';
import { isPauseCommand } from './client-pause.js';

export type Route =
  | 'shared'
  | 'markered'
  | 'gears'
  | 'tracked'
  | 'blocking'
  | 'pubsub'
  | 'monitor'
  | 'raw'
  | 'exec'
  | 'queue-gears'
  | 'client-reply'
  | 'replication'
  | 'unlocked'
  | 'client-kill'
  | 'introspect';

export interface RouterInput {
  /** Lower-case command name. */
  readonly name: string;
  readonly args: readonly Buffer[];
}

export interface RouterState {
  /** The connection forwards a stream (RESP2 subscribed, or MONITOR). */
  readonly rawMode: boolean;
  readonly inMulti: boolean;
}

export interface RouterContext {
  readonly table: CommandTable;
  /** Whether a command on `key` may fire a trigger (TriggerScheduler.isRelevant). */
  readonly isRelevant: (key: Buffer, readOnly: boolean) => boolean;
}

export const PUBSUB_COMMANDS: ReadonlySet<string> = new Set(['subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe']);

export function route(command: RouterInput, state: RouterState, context: RouterContext): Route {
  if (state.rawMode) return 'raw';
  const { name, args } = command;
  const gears = gearsCommandName(name) !== undefined;
  if (state.inMulti) {
    if (gears) return 'queue-gears';
    if (name === 'exec') return 'exec';
    if (TRACKED.has(name)) return 'tracked';
    return 'shared'; // queued by the server: it executes nothing now
  }
  if (gears) return 'gears';
  if (TRACKED.has(name)) return 'tracked';
  if (PUBSUB_COMMANDS.has(name)) return 'pubsub';
  if (name === 'monitor') return 'monitor';
  if (name === 'client' && clientReplyMode(args) !== null) return 'client-reply';
  if (name === 'sync' || name === 'psync') return 'replication';
  if (reachesBusyServer(name, args)) return 'unlocked';
  if (name === 'client' && args.length > 2 && args[1]!.toString('latin1').toLowerCase() === 'kill') return 'client-kill';
  if (isIntrospection(name, args)) return 'introspect';
  if (context.table.mayBlock(args, name)) return 'blocking';
  const keys = context.table.keysOf(args, name);
  if (keys === null) return 'markered';
  const readOnly = context.table.isReadOnly(args, name);
  for (const key of keys) if (context.isRelevant(key, readOnly)) return 'markered';
  return 'shared';
}

/** The mode of a well-formed `CLIENT REPLY ON|OFF|SKIP`, or null (malformed ones go to the server for its error). */
export function clientReplyMode(args: readonly Buffer[]): 'on' | 'off' | 'skip' | null {
  if (args.length !== 3 || args[1]!.toString('latin1').toLowerCase() !== 'reply') return null;
  const mode = args[2]!.toString('latin1').toLowerCase();
  return mode === 'on' || mode === 'off' || mode === 'skip' ? mode : null;
}

/**
 * Commands a busy or paused server still runs, which the lock must not hold back; CLIENT PAUSE too, whose reply
 * the runtime must see before any command that comes after it (client-pause.ts).
 */
function reachesBusyServer(name: string, args: readonly Buffer[]): boolean {
  if (name === 'client') return isPauseCommand(name, args);
  if (args.length !== 2 || (name !== 'script' && name !== 'function')) return false;
  return args[1]!.toString('latin1').toLowerCase() === 'kill';
}

function isIntrospection(name: string, args: readonly Buffer[]): boolean {
  if (name === 'info') return true; // its tracking_clients counts the runtime's keyspace subscription
  if ((name !== 'slowlog' && name !== 'pubsub') || args.length < 2) return false;
  const sub = args[1]!.toString('latin1').toLowerCase();
  return name === 'slowlog' ? sub === 'get' || sub === 'len' : (sub === 'numpat' && args.length === 2) || sub === 'channels';
}
