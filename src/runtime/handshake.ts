/**
 * The handshake of every connection the runtime opens to redis-server for itself (control, keyspace
 * subscription, the library host's sync connection and async pool): one HELLO that picks the protocol,
 * authenticates with the credentials of `--redis` when it has them, and names the connection. The server's
 * reply carries the connection's id, which the runtime keeps out of its clients' CLIENT KILL.
 * (Client connections authenticate themselves: their AUTH / HELLO pass through, and session.ts follows them.)
 */
import type { RespValue } from './resp/types.js';
import { textOf } from './resp/types.js';
import type { RedisAddress } from '../shared/redis-address.js';

/**
 * Asked on each of the runtime's own connections after its HELLO: Redis 7's client eviction (`maxmemory-clients`)
 * must not close them (the keyspace subscription is the biggest client during a burst of changes; a sync
 * connection evicted under a library call fails the call). Servers before 7.0 refuse it, as may the user's ACL:
 * a refusal is not an error.
 */
export const NO_EVICT_COMMAND: readonly string[] = ['CLIENT', 'NO-EVICT', 'ON'];

/** Every name the runtime gives its own connections starts with this. */
export const OWN_CONNECTION_NAME = 'writebehind-runtime';

/** HELLO with the URL's credentials; `role` names the connection, null leaves it unnamed (a client's own link). */
export function helloCommand(address: RedisAddress, protocol: 2 | 3, role: string | null): string[] {
  const auth = address.password === undefined ? [] : ['AUTH', address.username ?? 'default', address.password];
  return ['HELLO', String(protocol), ...auth, ...(role === null ? [] : ['SETNAME', `${OWN_CONNECTION_NAME}-${role}`])];
}

/** The connection id in a HELLO reply (a map in RESP3, a flat array in RESP2), or null. */
export function helloId(reply: RespValue): number | null {
  const flat = reply.type === 'map' ? reply.value.flatMap(([key, value]) => [key, value]) : reply.type === 'array' ? reply.value : [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const value = flat[i + 1]!;
    if (textOf(flat[i]!) === 'id' && value.type === 'integer') return Number(value.value);
  }
  return null;
}
