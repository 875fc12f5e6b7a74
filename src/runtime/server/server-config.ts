/**
 * What the runtime reads from, and sets on, the backing server's configuration at start (besides the keyspace
 * notification flags): the protocol limits its clients are held to, and the pub/sub output buffer limit its own
 * keyspace subscription needs lifted.
 */
import type { Logger } from '../../shared/log.js';
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from '../resp/request-parser.js';
import { textOf, type RespValue } from '../resp/types.js';
import type { RedisConnection } from './redis-connection.js';

/** `proto-max-bulk-len` and `client-query-buffer-limit` as the server has them (its defaults if unreadable). */
export async function readRequestLimits(control: RedisConnection): Promise<RequestLimits> {
  const config = configEntries(await control.send(['CONFIG', 'GET', 'proto-max-bulk-len', 'client-query-buffer-limit']));
  const number = (name: string, fallback: number) => {
    const value = Number(config.get(name));
    return Number.isFinite(value) && value > 0 ? value : fallback;
  };
  return {
    maxBulkLength: number('proto-max-bulk-len', DEFAULT_REQUEST_LIMITS.maxBulkLength),
    maxQueryBuffer: number('client-query-buffer-limit', DEFAULT_REQUEST_LIMITS.maxQueryBuffer),
  };
}

/**
 * The keyspace subscription receives one message per change of a watched key: a script making a million changes
 * queues a million messages at once, and the `pubsub` class of `client-output-buffer-limit` (32 MB by default)
 * would make the server drop the runtime's subscription — after which no trigger could fire. Redis has no
 * per-connection limit, so the class's limit is lifted (`pubsub 0 0 0`), keeping the other classes as they are.
 */
export async function liftPubSubOutputLimit(control: RedisConnection, log: Logger): Promise<void> {
  const current = configEntries(await control.call(['CONFIG', 'GET', 'client-output-buffer-limit'])).get('client-output-buffer-limit') ?? '';
  const pubsub = /pubsub (\S+) (\S+) (\S+)/.exec(current);
  if (pubsub === null || (pubsub[1] === '0' && pubsub[2] === '0')) return;
  await control.call(['CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 0 0 0']);
  log.warn({ was: pubsub[0] }, 'lifted client-output-buffer-limit for pubsub clients: the runtime’s keyspace subscription must not be dropped');
}

function configEntries(reply: RespValue): Map<string, string> {
  const out = new Map<string, string>();
  if (reply.type === 'map') {
    for (const [key, value] of reply.value) out.set(textOf(key) ?? '', textOf(value) ?? '');
  } else if (reply.type === 'array') {
    for (let i = 0; i + 1 < reply.value.length; i += 2) out.set(textOf(reply.value[i]!) ?? '', textOf(reply.value[i + 1]!) ?? '');
  }
  return out;
}
