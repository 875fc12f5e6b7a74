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

/**
 * The database question of one capture, asked at most once and only when it matters: before the capture's
 * first write other than the append to its capture stream. That append goes with `NOMKSTREAM` until the
 * database is known; the capture stream always exists in database 0 once the first change is captured, so an
 * append there needs no probe, and a missing stream (the first capture, or another database) asks it.
 * (A stream of that name created by hand in another database would take that database's captures.)
 */
export interface DatabaseCheck {
  /** Returns when the capture runs in database 0; otherwise `refuse` throws. */
  confirm(): void;
  /** Whether the capture was refused. */
  readonly refused: boolean;
  /** Whether database 0 is confirmed. */
  readonly confirmed: boolean;
}

export function databaseCheck(client: GearsClient, refuse: () => never): DatabaseCheck {
  return new DatabaseProbe(client, refuse);
}

/**
 * One per captured write: a class, whose instances share one shape, costs less to make than an object literal
 * with getters. (TypeScript `private`, not `#`: the bundle's ES2020 target turns `#` fields into WeakMaps.)
 */
class DatabaseProbe implements DatabaseCheck {
  private isConfirmed = false;
  private isRefused = false;

  constructor(
    private readonly client: GearsClient,
    private readonly refuse: () => never,
  ) {}

  confirm(): void {
    if (this.isConfirmed) return;
    if (!inDatabaseZero(this.client)) {
      this.isRefused = true;
      this.refuse();
    }
    this.isConfirmed = true;
  }

  get refused(): boolean {
    return this.isRefused;
  }

  get confirmed(): boolean {
    return this.isConfirmed;
  }
}

/** A cluster has database 0 only: nothing to ask. */
export const DATABASE_ZERO: DatabaseCheck = Object.freeze({ confirm() {}, refused: false, confirmed: true });

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
