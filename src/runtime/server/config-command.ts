/**
 * The runtime's CONFIG GET/SET on its backing server, where CONFIG may be renamed away (`rename-command CONFIG
 * ""`) or denied to the runtime's user: such a refusal comes back for the caller's fallback, any other error reply
 * throws, and a GET's reply (an array in RESP2, a map in RESP3) comes back as its entries.
 */
import { RedisCommandError } from '../../shared/errors.js';
import { textOf, type RespValue } from '../resp/types.js';
import type { RedisConnection } from './redis-connection.js';

/** CONFIG's entries (none for SET), or the text of the server's refusal to run CONFIG for the runtime. */
export type ConfigReply = { readonly entries: ReadonlyMap<string, string> } | { readonly unavailable: string };

/** `CONFIG <args>`: its entries, or `unavailable` when CONFIG is renamed away or denied; other errors throw. */
export async function sendConfig(control: RedisConnection, args: readonly string[]): Promise<ConfigReply> {
  const reply = await control.send(['CONFIG', ...args]);
  if (reply.type !== 'error') return { entries: configEntries(reply) };
  if (isConfigUnavailable(reply.value)) return { unavailable: reply.value.trim() };
  throw new RedisCommandError(reply.value, { context: { command: 'CONFIG' } });
}

/**
 * Whether a CONFIG error reply means the command is not there for the runtime (renamed away, or denied to its
 * user by ACL), rather than a failure of the command itself.
 */
export function isConfigUnavailable(error: string): boolean {
  return /^ERR unknown command\b/i.test(error) || /^NOPERM\b/.test(error);
}

/** The name/value pairs of a CONFIG GET reply; none for any other reply. */
export function configEntries(reply: RespValue): Map<string, string> {
  const out = new Map<string, string>();
  if (reply.type === 'map') {
    for (const [key, value] of reply.value) out.set(textOf(key) ?? '', textOf(value) ?? '');
  } else if (reply.type === 'array') {
    for (let i = 0; i + 1 < reply.value.length; i += 2) out.set(textOf(reply.value[i]!) ?? '', textOf(reply.value[i + 1]!) ?? '');
  }
  return out;
}
