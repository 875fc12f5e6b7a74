/**
 * Client commands whose answer must leave out the runtime's own connections and traffic: CLIENT KILL (never
 * kills them, see client-kill.ts), SLOWLOG GET/LEN, PUBSUB NUMPAT/CHANNELS and INFO (see own-traffic.ts). Each is sent
 * on the client's own upstream connection and answered with the server's reply, filtered.
 */
import { encodeCommand } from '../resp/encoder.js';
import type { RespValue } from '../resp/types.js';
import { parseClientList, planClientKill, sumKillReplies } from './client-kill.js';
import { slowlogCount, type OwnTraffic } from './own-traffic.js';
import type { RedisConnection } from './redis-connection.js';
import type { UpstreamLink } from './upstream-link.js';

export interface OwnTrafficContext {
  readonly link: UpstreamLink;
  readonly control: RedisConnection;
  readonly own: OwnTraffic;
}

/** The reply to `args` (CLIENT KILL…, SLOWLOG…, PUBSUB…), or null when the server should simply answer it. */
export async function answerWithoutOwnTraffic(name: string, args: readonly Buffer[], raw: Buffer, context: OwnTrafficContext): Promise<RespValue | null> {
  return name === 'client' ? clientKill(args, context) : introspection(name, args, raw, context);
}

async function clientKill(args: readonly Buffer[], { link, control, own }: OwnTrafficContext): Promise<RespValue | null> {
  const clients = parseClientList(await control.send(['CLIENT', 'LIST']));
  const plan = planClientKill(args, own.ids, clients);
  if (plan.kind === 'pass') return null;
  if (plan.kind === 'reply') return plan.reply;
  const replies = plan.commands.map(() => link.expectValue());
  link.write(Buffer.concat(plan.commands.map((command) => encodeCommand(command))));
  return sumKillReplies(await Promise.all(replies));
}

async function introspection(name: string, args: readonly Buffer[], raw: Buffer, { link, own }: OwnTrafficContext): Promise<RespValue | null> {
  if (name === 'info') {
    const reply = link.expectValue();
    link.write(raw);
    return own.info(await reply);
  }
  const sub = args[1]!.toString('latin1').toLowerCase();
  const count = sub === 'len' ? null : sub === 'get' ? slowlogCount(args) : undefined;
  if (name === 'slowlog' && count === undefined) return null; // the server's error
  const addresses = await own.addresses();
  const reply = link.expectValue();
  link.write(name === 'slowlog' ? encodeCommand(['SLOWLOG', 'GET', '-1']) : raw);
  const value = await reply;
  return name === 'slowlog' ? own.slowlog(value, count!, addresses) : sub === 'numpat' ? own.numpat(value) : own.channels(value);
}
