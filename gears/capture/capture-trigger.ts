import { CAPTURE_STREAM_PREFIX, partitionOfKey } from '../../src/shared/keys.js';
import { toHex } from '../bytes.js';
import { keySlot } from '../../src/shared/key-slot.js';
import { isClusterMode, isImportingHere, isSlotElsewhere } from '../cluster-mode.js';
import type { WriterContext, WriterContexts } from '../writer-context.js';
import { captureChange } from './capture-change.js';
import { currentDatabase, DATABASE_ZERO, databaseCheck, inDatabaseZero, type DatabaseCheck } from './database.js';
import { deadLetterCapture } from './dead-letter.js';

/**
 * Keyspace trigger `<writer name>` on `<keysPrefix>:` (one per writer), synchronous.
 *
 * - fires on: every keyspace event of a key under the prefix (RedisGears has no event filter); `keymiss`,
 *   `expire` and `new` are ignored.
 * - writes: XADD `wb:changes:{<writer>}` (one capture record), HDEL `<key>` `#`, DEL `<key>` (`-`, `~`),
 *   XADD+EXPIRE `{<key>}<uuid>` (ack of `+`/`-` or of a failure), XADD `wb:dlq:{<writer>}` + HINCRBY/HSET
 *   `wb:meta:{<writer>}` (dead letters), HSET `wb:divergent:{<writer>}` `<key>` (the record of a `+`/`-` write,
 *   divergence.ts, so a repair leaves the key alone).
 * - reply / errors: none reach the writing client. Input problems are dead-lettered and count as success in
 *   TFUNCTION LIST. A thrown error (a bug, or a Redis error such as OOM) is dead-lettered with the key too,
 *   then rethrown so it counts in `num_failed` / `last_error` there. A lock-redis-timeout kills the callback
 *   without any catch: only `num_failed` shows it (the worker and `status` read it).
 *
 * - databases: only database 0 is captured. A write in another database is left as it is and the callback
 *   throws `... <key> was written in database <n> ...` (num_failed / last_error; nothing is written there).
 *   A `MOVE` is captured in database 0 only (out of it: a delete; into it: the image); its `move_from`/`move_to`
 *   in another database is ignored, not refused: nothing was written there that should have been replicated.
 *
 * - on a cluster: the record goes into the key's slot's partition (`wb:changes:<writer>:<slot>/16384:{<tag>}`),
 *   on the key's shard, whatever `partitions` says. A slot migration's own events are not user changes: the
 *   `restore` a `MIGRATE` raises on the target is ignored (the hash arrives with its history already in the
 *   stream, migrated in the same call), and a `del` on the source whose capture finds the slot gone
 *   (`MOVED`/`ASK`: hash and stream left together) is skipped; docs/scale-out.md, slot migration. A capture
 *   that meets `MOVED`/`ASK` on a node *importing* the key's slot is no migration's: a client wrote there with
 *   `ASKING` (between `MIGRATE` and `SETSLOT … NODE`), so it fails, whatever the event, with an error naming
 *   the event, the key and the slot (`num_failed`, `last_error`); its dead letter cannot be written (every key
 *   of the slot redirects the library's calls until `SETSLOT … NODE`), the re-capture of the slot repairs it.
 *
 * The callback is a plain function (not async), so RedisGears runs it as a post-notification job in the
 * write's own execution unit: the record is in the stream, replicated with the write, before the client's reply.
 */
export function registerCaptureTrigger(partitions: readonly WriterContext[], contexts: WriterContexts): void {
  const writer = partitions[0]!;
  const count = partitions.length;
  // Partitioned: the key's slot picks its partition (partitionOfKey), so one key's changes stay in one stream.
  const route = count === 1 ? () => writer : (event: GearsKeySpaceEvent) => partitions[partitionOfKey(new Uint8Array(event.key_raw), count)]!;
  const into = count === 1 ? writer.keys.changes : `${count} partition streams ${CAPTURE_STREAM_PREFIX}${writer.name}:<n>/${count}:{…}`;
  redis.registerKeySpaceTrigger(writer.name, writer.prefix, (client, event) => {
    if (isClusterMode(client)) captureOnCluster(client, contexts.ofKey(writer.name, new Uint8Array(event.key_raw)), event);
    else captureOrRecord(client, route(event), event);
  }, {
    description: `captures hashes ${writer.prefix}* into ${into} (on a cluster: a stream per slot) for table ${writer.table}`,
  });
}

/** On a cluster: only database 0 exists, and a migration's own events are no changes (see the header). */
function captureOnCluster(client: GearsClient, writer: WriterContext, event: GearsKeySpaceEvent): void {
  if (event.event === 'restore') return;
  try {
    capture(client, writer, event, DATABASE_ZERO);
  } catch (error) {
    if (!isSlotElsewhere(error)) throw error;
    const slot = keySlot(new Uint8Array(event.key_raw));
    if (isImportingHere(client, slot)) throw windowFailure(writer, event, slot, error);
    if (event.event === 'del') return;
    throw error;
  }
}

/** The error of a write that reached this node through ASK while its slot was moving here (see the header). */
function windowFailure(writer: WriterContext, event: GearsKeySpaceEvent, slot: number, cause: unknown): string {
  const key = event.key ?? `(hex) ${toHex(event.key_raw)}`;
  const message = `ERR writebehind ${writer.name}: ${event.event} of ${key} not captured: slot ${slot} is IMPORTING here and the write came with ASKING, but the library's own calls are redirected (${String(cause)}); ` +
    `once the move is done, writebehind recapture --slots ${slot} captures it (a key deleted meanwhile is no longer in the slot: writebehind verify --repair; writebehind reshard re-captures the keys it moved itself)`;
  redis.log(message);
  return message;
}

/**
 * A `MOVE` raises `move_from` in the key's old database and `move_to` in its new one. In database 0 they are
 * captured as any change (out: the row's delete; in: its image). Elsewhere the key only left or entered a database
 * nobody replicates: no change to capture, and no failure to count (unlike a write there, which is refused).
 */
const MOVE_EVENTS: ReadonlySet<string> = new Set(['move_from', 'move_to']);

function captureOrRecord(client: GearsClient, writer: WriterContext, event: GearsKeySpaceEvent): void {
  if (MOVE_EVENTS.has(event.event) && !inDatabaseZero(client)) return;
  capture(client, writer, event, databaseCheck(client, () => refuseOtherDatabase(client, writer, event)));
}

/** The capture, with a thrown error dead-lettered (when Redis still takes writes, in database 0) and rethrown. */
function capture(client: GearsClient, writer: WriterContext, event: GearsKeySpaceEvent, database: DatabaseCheck): void {
  try {
    captureChange(client, writer, event, database);
  } catch (error) {
    if (database.refused) throw error;
    try {
      database.confirm();
      const key = event.key ?? toHex(event.key_raw);
      deadLetterCapture(client, writer, { reason: `capture failed: ${String(error)}`, event: event.event, key, ack: null });
    } catch {
      // Redis refuses writes altogether (OOM, say), or this is another database: the rethrown error still shows
      // in TFUNCTION LIST.
    }
    throw error;
  }
}

/** Throws: a capture there would land in a stream no worker reads, and a dead letter there nobody would see. */
function refuseOtherDatabase(client: GearsClient, writer: WriterContext, event: GearsKeySpaceEvent): never {
  const key = event.key ?? `(hex) ${toHex(event.key_raw)}`;
  const message = `ERR writebehind ${writer.name}: ${key} was written in database ${currentDatabase(client) ?? '(not 0)'}: only database 0 is captured, this change is not replicated`;
  redis.log(message);
  throw message;
}
