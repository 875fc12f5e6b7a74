/** What a library's clients and `redis` API need from the host: connections, the lock, the log. */
import type { LockedExecutor } from '../gears-host.js';
import type { Logger } from '../../shared/log.js';
import type { SyncRedis } from '../sync-redis/sync-redis.js';
import type { AsyncConnectionPool } from './async-connection-pool.js';
import type { CommandTable } from '../command-table.js';
import type { AccessControl } from '../access/access-control.js';
import type { LibraryCalls } from './library-calls.js';

export interface HostServices {
  readonly syncRedis: SyncRedis;
  readonly pool: AsyncConnectionPool;
  readonly executor: LockedExecutor;
  readonly log: Logger;
  readonly commands: CommandTable;
  /** Whether a user may run a call (RedisGears' identity rules). */
  readonly access: AccessControl;
  /** Runs and counts library code's calls (the server settles effects when the count moved). */
  readonly calls: LibraryCalls;
  /** The server is a replica (as last seen): block() of a writing principal is refused. */
  readonly isReplica: () => boolean;
}
