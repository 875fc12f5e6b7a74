/**
 * TFUNCTION LOAD|DELETE|LIST, TFCALL and TFCALLASYNC, dispatched to their handlers (one file each) over a
 * library registry. The argument vectors come without the command name.
 */
import type { CallerContext, GearsCommandName } from '../gears-host.js';
import { error, type RespValue } from '../resp/types.js';
import type { GearsCommand } from './command-handler.js';
import type { LibraryRegistry } from './library-registry.js';
import { TFCALL } from './TFCALL.js';
import { TFCALLASYNC } from './TFCALLASYNC.js';
import { TFUNCTION_DELETE } from './TFUNCTION_DELETE.js';
import { TFUNCTION_LIST } from './TFUNCTION_LIST.js';
import { TFUNCTION_LOAD } from './TFUNCTION_LOAD.js';

const TFUNCTION_SUBCOMMANDS: ReadonlyMap<string, GearsCommand<unknown>> = new Map<string, GearsCommand<unknown>>([
  ['load', TFUNCTION_LOAD],
  ['delete', TFUNCTION_DELETE],
  ['list', TFUNCTION_LIST],
]);

export function dispatchGearsCommand(registry: LibraryRegistry, name: GearsCommandName, args: Buffer[], caller: CallerContext): RespValue | Promise<RespValue> {
  // arity -2: redis-server itself refuses a bare TFUNCTION.
  if (name === 'TFUNCTION' && args.length === 0) return error("ERR wrong number of arguments for 'tfunction' command");
  // After the arity and before anything else, as processCommand checks authentication, then ACL.
  const denial = registry.denial(name, args, caller);
  if (denial !== null) return error(denial);
  if (name === 'TFCALL') return TFCALL.execute(registry, args, caller);
  if (name === 'TFCALLASYNC') return TFCALLASYNC.execute(registry, args, caller);
  // Accepted only from a peer runtime in cluster mode (ClusterGearsHost answers it there).
  if (name === '_RG_INTERNALS.FUNCTION') return error('Internal command should only be sent from primary or loaded from AOF');
  const sub = args[0]!.toString('utf8').toLowerCase();
  const command = TFUNCTION_SUBCOMMANDS.get(sub);
  if (command === undefined) return error(`Unknown subcommand ${sub}`);
  return command.execute(registry, args.slice(1), caller);
}
