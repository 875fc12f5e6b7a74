/**
 * One TF command run on the library host, as a client command: with the exclusive lock held by the caller, and
 * what library code did settled (the triggers its writes fire) before the reply is known.
 */
import type { GearsCommandName, CallerContext } from '../gears-host.js';
import { GEARS_COMMAND_MIN_ARGS } from '../commands/index.js';
import { errorMessage } from '../../shared/errors.js';
import { error, type RespValue } from '../resp/types.js';
import type { TriggerScheduler } from './trigger-scheduler.js';
import { READONLY_ERROR } from '../replication/server-role.js';

/** A reply now, or (TFCALLASYNC of an async function) a reply to come. */
export type LibraryResult = RespValue | Promise<RespValue>;

/** `args` includes the command name. Wrapped: an async function's pending reply must not be awaited here. */
export async function callLibrary(scheduler: TriggerScheduler, name: GearsCommandName, args: readonly Buffer[], caller: CallerContext): Promise<{ readonly result: LibraryResult }> {
  // Believed a replica: asked again, so that a promoted server does not refuse a function (replica-refusals.ts).
  await scheduler.confirmRole();
  // A replica takes no load from a client (RedisGears' are write commands); a peer's reaches it as _rg_internals.
  if (!scheduler.isPrimary && changesLibraries(name, args)) return { result: error(READONLY_ERROR) };
  const host = scheduler.host;
  const before = host.callCount;
  let result: LibraryResult;
  try {
    result = host.handleCommand(name, args.slice(1), caller);
  } catch (cause) {
    result = errorReplyOf(cause);
  }
  await scheduler.settleLibraryWork(before);
  return { result };
}

function changesLibraries(name: GearsCommandName, args: readonly Buffer[]): boolean {
  const sub = args[1]?.toString('latin1').toLowerCase();
  return name === 'TFUNCTION' && (sub === 'load' || sub === 'delete');
}

/** The arity error redis-server would give (RedisGears registers TFCALL/TFCALLASYNC with arity -3), or null. */
export function gearsArityError(args: readonly Buffer[], name: GearsCommandName): RespValue | null {
  if (args.length >= GEARS_COMMAND_MIN_ARGS[name]) return null;
  return error(`ERR wrong number of arguments for '${name.toLowerCase()}' command`);
}

export function errorReplyOf(cause: unknown): RespValue {
  return error(`ERR ${errorMessage(cause)}`);
}

export function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
