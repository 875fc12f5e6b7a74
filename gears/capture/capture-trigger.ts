import { toHex } from '../bytes.js';
import type { WriterContext } from '../writer-context.js';
import { captureChange } from './capture-change.js';
import { deadLetterCapture } from './dead-letter.js';

/**
 * Keyspace trigger `<writer name>` on `<keysPrefix>:` (one per writer), synchronous.
 *
 * - fires on: every keyspace event of a key under the prefix (RedisGears has no event filter); `keymiss`,
 *   `expire` and `new` are ignored.
 * - writes: XADD `wb:changes:{<writer>}` (one capture record), HDEL `<key>` `#`, DEL `<key>` (`-`, `~`),
 *   XADD+EXPIRE `{<key>}<uuid>` (ack of `+`/`-` or of a failure), XADD `wb:dlq:{<writer>}` + HINCRBY/HSET
 *   `wb:meta:{<writer>}` (dead letters).
 * - reply / errors: none reach the writing client. Input problems are dead-lettered and count as success in
 *   TFUNCTION LIST. A thrown error (a bug, or a Redis error such as OOM) is dead-lettered with the key too,
 *   then rethrown so it counts in `num_failed` / `last_error` there. A lock-redis-timeout kills the callback
 *   without any catch: only `num_failed` shows it (the worker and `status` read it).
 *
 * The callback is a plain function (not async), so RedisGears runs it as a post-notification job in the
 * write's own execution unit: the record is in the stream, replicated with the write, before the client's reply.
 */
export function registerCaptureTrigger(writer: WriterContext): void {
  redis.registerKeySpaceTrigger(writer.name, writer.prefix, (client, event) => captureOrRecord(client, writer, event), {
    description: `captures hashes ${writer.prefix}* into ${writer.keys.changes} for table ${writer.table}`,
  });
}

function captureOrRecord(client: GearsClient, writer: WriterContext, event: GearsKeySpaceEvent): void {
  try {
    captureChange(client, writer, event);
  } catch (error) {
    try {
      const key = event.key ?? toHex(event.key_raw);
      deadLetterCapture(client, writer, { reason: `capture failed: ${String(error)}`, event: event.event, key, ack: null });
    } catch {
      // Redis refuses writes altogether (OOM, say): the rethrown error still shows in TFUNCTION LIST.
    }
    throw error;
  }
}
