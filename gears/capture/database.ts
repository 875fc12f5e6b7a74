/**
 * Which database a capture runs in. The worker reads database 0, and Redis Cluster has no other, so a mapped
 * hash written in another database must not be captured there (into a stream nobody reads) but refused
 * visibly.
 *
 * RedisGears tells a keyspace trigger the key and the event, not the database, and its client runs commands in
 * the database of the write. `MOVE <key> <db>` answers "source and destination objects are the same" when
 * <db> is the current database, before it looks at the key: on a key that never exists it is a read-only
 * probe (it moves nothing and raises no event). In cluster mode MOVE is refused, and only database 0 exists.
 */

/** Never written: under the library's own `wb:` namespace, which no writer's keysPrefix may overlap. */
const PROBE_KEY = 'wb:database-probe';

export function inDatabaseZero(client: GearsClient): boolean {
  return isCurrentDatabase(client, 0) ?? true;
}

/** The current database's index (probed upwards; only on the refusal path), or null when not found. */
export function currentDatabase(client: GearsClient): number | null {
  for (let db = 0; ; db++) {
    const current = isCurrentDatabase(client, db);
    if (current === null) return null;
    if (current) return db;
  }
}

/** Whether `db` is the current database; null when MOVE cannot tell (cluster mode, index out of range). */
function isCurrentDatabase(client: GearsClient, db: number): boolean | null {
  try {
    client.call('MOVE', PROBE_KEY, String(db));
    return false;
  } catch (error) {
    const message = String(error);
    if (message.includes('source and destination objects are the same')) return true;
    if (message.includes('cluster mode') || message.includes('out of range')) return null;
    throw error;
  }
}
