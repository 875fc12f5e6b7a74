/**
 * The role of the runtime's redis-server, as `ROLE` reports it: `master` is a primary, `slave` a replica. A
 * replica's runtime fires no trigger (RedisGears runs none on a replica, reference §stream triggers
 * "Never on replicas"), so the runtime asks at start and again whenever it may have changed
 * (replication-role.ts).
 */
import { RedisCommandError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { RespValue } from '../resp/types.js';
import type { RedisConnection } from '../server/redis-connection.js';

export type ServerRole = 'primary' | 'replica';

/** What a replica answers to a write, and what the runtime answers to a TFUNCTION LOAD or DELETE there. */
export const READONLY_ERROR = "READONLY You can't write against a read only replica.";

/** The role in a `ROLE` reply (RESP2 or RESP3). */
export function roleOf(reply: RespValue): ServerRole {
  const first = reply.type === 'array' ? reply.value[0] : undefined;
  const name = first?.type === 'blob' ? first.value.toString('latin1') : first?.type === 'simple' ? first.value : '';
  if (name === 'master') return 'primary';
  if (name === 'slave') return 'replica';
  throw new RedisCommandError(`unexpected ROLE reply from redis-server: ${reply.type === 'error' ? reply.value : name}`);
}

/**
 * The role at start, or null when the runtime's user may not run ROLE: the runtime then runs as before it knew
 * roles (as a primary, checking nothing), and says so.
 */
export async function roleAtStart(control: RedisConnection, log: Logger): Promise<ServerRole | null> {
  const reply = await control.send(['ROLE']);
  if (reply.type !== 'error') return roleOf(reply);
  log.warn({ err: reply.value }, 'ROLE refused: the runtime cannot tell a replica from a primary and fires triggers as on a primary; allow its user ROLE');
  return null;
}
