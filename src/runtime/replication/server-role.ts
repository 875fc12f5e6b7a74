/**
 * The role of the runtime's redis-server, as `ROLE` reports it: `master` is a primary, `slave` a replica. A
 * replica's runtime fires no trigger (RedisGears runs none on a replica, reference §stream triggers
 * "Never on replicas"), so the runtime asks at start and again whenever it may have changed
 * (replication-role.ts).
 */
import { RedisCommandError } from '../../shared/errors.js';
import type { RespValue } from '../resp/types.js';

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
