import type { WriterContext } from '../writer-context.js';
import { captureChange } from './capture-change.js';

/**
 * Keyspace trigger `<writer name>` on `<keysPrefix>:` (one per writer), synchronous.
 *
 * - fires on: every keyspace event of a key under the prefix (RedisGears has no event filter); `keymiss`,
 *   `expire` and `new` are ignored.
 * - writes: XADD `wb:changes:{<writer>}` (one capture record), HDEL `<key>` `#`, DEL `<key>` (`-`, `~`),
 *   XADD+EXPIRE `{<key>}<uuid>` (ack of `+`/`-` or of a failure), XADD `wb:dlq:{<writer>}` + HINCRBY/HSET
 *   `wb:meta:{<writer>}` (dead letters).
 * - reply / errors: none reach the writing client. Input problems are dead-lettered and count as success in
 *   TFUNCTION LIST; a thrown error is a bug and shows as `last_error` there.
 *
 * The callback is a plain function (not async), so RedisGears runs it as a post-notification job in the
 * write's own execution unit: the record is in the stream, replicated with the write, before the client's reply.
 */
export function registerCaptureTrigger(writer: WriterContext): void {
  redis.registerKeySpaceTrigger(writer.name, writer.prefix, (client, event) => captureChange(client, writer, event), {
    description: `captures hashes ${writer.prefix}* into ${writer.keys.changes} for table ${writer.table}`,
  });
}
