/**
 * Which client commands the runtime answers itself (RedisGears' own) instead of passing them to redis-server.
 * The commands are implemented by the library host (`GearsHost.handleCommand`, one file per command beside
 * this one); this map only routes names.
 */
import type { GearsCommandName } from '../gears-host.js';

const GEARS_COMMANDS: ReadonlyMap<string, GearsCommandName> = new Map([
  ['tfunction', 'TFUNCTION'],
  ['tfcall', 'TFCALL'],
  ['tfcallasync', 'TFCALLASYNC'],
  ['_rg_internals.function', '_RG_INTERNALS.FUNCTION'],
]);

/** The RedisGears command a lower-case command name denotes, or undefined for a redis-server command. */
export function gearsCommandName(lowerCaseName: string): GearsCommandName | undefined {
  return GEARS_COMMANDS.get(lowerCaseName);
}

/** Minimum argument counts, command name included (RedisGears registers TFCALL/TFCALLASYNC with arity -3). */
export const GEARS_COMMAND_MIN_ARGS: Readonly<Record<GearsCommandName, number>> = { TFUNCTION: 2, TFCALL: 3, TFCALLASYNC: 3, '_RG_INTERNALS.FUNCTION': 2 };
