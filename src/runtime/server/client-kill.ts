/**
 * CLIENT KILL through the runtime must not kill the runtime's own connections to the server (its keyspace
 * subscription, its control connection): `CLIENT KILL SKIPME YES` or `TYPE pubsub` would otherwise cut the runtime
 * off, and it would close for every client. The filters stay the server's to evaluate; the runtime only keeps its
 * own connections out of their reach:
 * - the old form (`CLIENT KILL addr:port`) naming one of them is answered as for an unknown address;
 * - a filter form with `ID` naming one of them kills nothing;
 * - any other filter form is sent once per other client, with `ID <id>` added (filters are ANDed), and the
 *   counts summed.
 */
import { error, integer, textOf, type RespValue } from '../resp/types.js';

export interface ClientListEntry {
  readonly id: number;
  readonly addr: string;
}

export type ClientKillPlan =
  | { readonly kind: 'pass' }
  | { readonly kind: 'reply'; readonly reply: RespValue }
  | { readonly kind: 'per-client'; readonly commands: Buffer[][] };

/** What to do with `CLIENT KILL ...` (`args`, command name first), given the server's clients and the runtime's own. */
export function planClientKill(args: readonly Buffer[], own: ReadonlySet<number>, clients: readonly ClientListEntry[]): ClientKillPlan {
  if (args.length === 3) {
    const addr = args[2]!.toString('latin1');
    const target = clients.find((client) => client.addr === addr);
    return target && own.has(target.id) ? { kind: 'reply', reply: error('ERR No such client') } : { kind: 'pass' };
  }
  if (args.length < 4 || args.length % 2 !== 0) return { kind: 'pass' }; // the server answers the syntax error
  for (let i = 2; i < args.length; i += 2) {
    if (args[i]!.toString('latin1').toLowerCase() !== 'id') continue;
    return own.has(Number(args[i + 1]!.toString('latin1'))) ? { kind: 'reply', reply: integer(0) } : { kind: 'pass' };
  }
  const others = clients.filter((client) => !own.has(client.id));
  if (others.length === 0) return { kind: 'pass' };
  return { kind: 'per-client', commands: others.map((client) => [...args, Buffer.from('ID'), Buffer.from(String(client.id))]) };
}

/** The reply to the per-client kills: the first error, or the sum of the counts. */
export function sumKillReplies(replies: readonly RespValue[]): RespValue {
  let killed = 0n;
  for (const reply of replies) {
    if (reply.type === 'error') return reply;
    if (reply.type === 'integer') killed += reply.value;
  }
  return integer(killed);
}

/** The clients of a CLIENT LIST reply. */
export function parseClientList(reply: RespValue): ClientListEntry[] {
  const text = textOf(reply) ?? '';
  const out: ClientListEntry[] = [];
  for (const line of text.split('\n')) {
    const id = /(?:^| )id=(\d+)/.exec(line);
    const addr = /(?:^| )addr=(\S+)/.exec(line);
    if (id && addr) out.push({ id: Number(id[1]), addr: addr[1]! });
  }
  return out;
}
