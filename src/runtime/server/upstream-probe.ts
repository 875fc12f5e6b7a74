/**
 * What only the server knows about a client's upstream connection, asked on the control connection by its id
 * (CLIENT LIST ID <id>): whether a command left it blocked (flag `b`), and whether a watched key changed (`d`).
 */
import type { RespValue } from '../resp/types.js';
import type { RedisConnection } from './redis-connection.js';
import type { UpstreamLink } from './upstream-link.js';

/** Whether the command whose `reply` is awaited was served at once, or left the connection blocked. */
export async function servedOrBlocked(link: UpstreamLink, control: RedisConnection, reply: Promise<RespValue>): Promise<'served' | 'blocked'> {
  let answered = false;
  reply.then(
    () => (answered = true),
    () => (answered = true),
  );
  const id = await link.serverId(control);
  if (id === null) return 'blocked';
  for (let poll = 0; ; poll++) {
    // The server may not have read the command yet: poll, backing off so a paused server is not hammered.
    await new Promise((resolve) => (poll < 8 ? setImmediate(resolve) : setTimeout(resolve, Math.min(poll, 20))));
    if (answered) return 'served';
    const info = await control.send(['CLIENT', 'LIST', 'ID', String(id)]);
    if (answered) return 'served';
    const flags = clientListField(info, 'flags');
    if (flags === null || flags.includes('b')) return 'blocked';
  }
}

/** Whether a key the connection WATCHes changed (its EXEC would fail). */
export async function watchedKeyChanged(link: UpstreamLink, control: RedisConnection): Promise<boolean> {
  const id = await link.serverId(control);
  if (id === null) return false;
  const flags = clientListField(await control.send(['CLIENT', 'LIST', 'ID', String(id)]), 'flags');
  return flags !== null && flags.includes('d');
}

/** One `field=value` of a CLIENT LIST line, or null when the reply holds no client. */
function clientListField(reply: RespValue, field: string): string | null {
  const text = reply.type === 'blob' || reply.type === 'verbatim' ? reply.value.toString('latin1') : '';
  const match = new RegExp(`(?:^| )${field}=(\\S*)`).exec(text);
  return match ? match[1]! : null;
}
