/**
 * The redis-server command whose ACL rights a RedisGears command needs. The backing server does not know the TF
 * commands, so the runtime asks for their counterparts: TFUNCTION LOAD / DELETE / LIST need what FUNCTION LOAD /
 * DELETE / LIST need, TFCALL and TFCALLASYNC what FCALL needs with the same keys (RedisGears declares their keys
 * read-write, as FCALL's). A denial names the TF command, as processCommand would on Redis Stack.
 */
import type { GearsCommandName } from '../gears-host.js';

export interface RequiredRights {
  readonly argv: readonly (string | Buffer)[];
  readonly shownAs: string;
}

/** `args` follow the command name; null for a TFUNCTION subcommand that does not exist (it gets its own error). */
export function requiredRights(name: GearsCommandName, args: readonly Buffer[]): RequiredRights | null {
  // A peer runtime's `_rg_internals.function LOAD|DELETE` (cluster mode) loads or deletes like TFUNCTION does.
  if (name === 'TFUNCTION' || name === '_RG_INTERNALS.FUNCTION') {
    const shownAs = name.toLowerCase();
    const sub = args[0]?.toString('latin1').toLowerCase();
    if (sub === 'load') return { argv: ['FUNCTION', 'LOAD', 'x'], shownAs };
    if (sub === 'delete') return { argv: ['FUNCTION', 'DELETE', 'x'], shownAs };
    if (sub === 'list' && name === 'TFUNCTION') return { argv: ['FUNCTION', 'LIST'], shownAs };
    return null;
  }
  // TFCALL <lib.fn> <numkeys> keys…: a numkeys that names no keys checks the command alone, as key-spec lookup does.
  const numkeys = /^[0-9]+$/.test(args[1]?.toString('latin1') ?? '') ? Number(args[1]!.toString('latin1')) : 0;
  const keys = numkeys <= args.length - 2 ? args.slice(2, 2 + numkeys) : [];
  return { argv: ['FCALL', 'x', String(keys.length), ...keys], shownAs: name.toLowerCase() };
}
