/**
 * RedisGears runs a library's triggers as the user who loaded it. A deployer whose ACL cannot read the mapped
 * hashes or write the library's own keys (`wb:*`) and the acknowledgement streams (`{<hash key>}<uuid>`) loads
 * a library whose every capture then fails with NOPERM: the writes stand in Redis and never reach MySQL. So
 * before the load, the deploying user's rights are probed with `ACL DRYRUN` on one key of each kind per
 * writer, and a load that would capture nothing is refused, naming the user and the key (the library already
 * loaded, if any, stays as it was). A user denied `ACL DRYRUN` or `ACL WHOAMI` (or a server without them) is
 * not judged: the capture failures are then reported as usual (`writebehind status`, the worker's metric).
 */
import { ErrorReply } from '@redis/client';
import { ackStreamKey, hashKeyPrefix, writerKeys } from '../shared/keys.js';
import type { RedisSession } from './redis-session.js';

interface ProbedWriter {
  readonly name: string;
  readonly keysPrefix: string;
}

/** What the deploying user may not do that a capture does, one line per refused command; empty when all is allowed or not known. */
export async function ownerPermissionProblems(client: RedisSession, writers: readonly ProbedWriter[]): Promise<string[]> {
  const user = await denialAware(() => client.sendCommand(['ACL', 'WHOAMI']));
  if (typeof user !== 'string') return [];
  const problems: string[] = [];
  for (const writer of writers) {
    const keys = writerKeys(writer.name);
    const hash = `${hashKeyPrefix(writer.keysPrefix)}1`;
    const probes = [
      ['HMGET', hash, 'f'],
      ['XADD', keys.changes, '*', 'f', 'v'],
      ['HSET', keys.meta, 'f', 'v'],
      ['XADD', keys.deadLetters, '*', 'f', 'v'],
      ['XADD', ackStreamKey(hash, '00000000-0000-0000-0000-000000000000'), '*', 'status', 'done'],
    ];
    for (const probe of probes) {
      const verdict = await denialAware(() => client.sendCommand(['ACL', 'DRYRUN', user, ...probe]));
      if (verdict === undefined) return []; // ACL DRYRUN itself denied or unknown: not judged
      if (verdict !== 'OK') problems.push(`writer '${writer.name}': user '${user}' may not ${probe[0]} ${probe[1]} (${String(verdict)})`);
    }
  }
  return problems;
}

/** The reply; undefined when the command itself is refused (an error reply: NOPERM, unknown command). */
async function denialAware(send: () => Promise<unknown>): Promise<unknown> {
  try {
    return await send();
  } catch (error) {
    if (error instanceof ErrorReply) return undefined;
    throw error;
  }
}
