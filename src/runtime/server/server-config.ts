/**
 * What the runtime reads from, and sets on, the backing server's configuration at start (besides the keyspace
 * notification flags): the protocol limits its clients are held to, the pub/sub output buffer limit its own
 * keyspace subscription needs lifted, and an eviction policy that may take its own keys.
 */
import type { Logger } from '../../shared/log.js';
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from '../resp/request-parser.js';
import { INTERNAL_KEY_PREFIX } from '../library-host/library-store.js';
import { configEntries, isConfigUnavailable, sendConfig } from './config-command.js';
import type { RedisConnection } from './redis-connection.js';
import { LIFTED_PUBSUB_LIMIT } from './pubsub-limit.js';

/**
 * `proto-max-bulk-len` and `client-query-buffer-limit` as the server has them (its defaults if unreadable: said
 * once in the log when CONFIG is renamed away or denied, notify-keyspace-events.ts).
 */
export async function readRequestLimits(control: RedisConnection, log: Logger): Promise<RequestLimits> {
  const reply = await control.send(['CONFIG', 'GET', 'proto-max-bulk-len', 'client-query-buffer-limit']);
  if (reply.type === 'error' && isConfigUnavailable(reply.value)) {
    log.warn({ config: reply.value.trim(), limits: DEFAULT_REQUEST_LIMITS }, 'CONFIG is unavailable: the runtime holds its clients to redis-server’s default proto-max-bulk-len and client-query-buffer-limit');
  }
  const config = configEntries(reply);
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
 * Where CONFIG is renamed away or denied the limit can be neither read nor lifted: the runtime starts and says
 * so (a burst may still get its subscription dropped, which closes the runtime rather than miss triggers).
 */
export async function liftPubSubOutputLimit(control: RedisConnection, log: Logger): Promise<void> {
  const got = await sendConfig(control, ['GET', 'client-output-buffer-limit']);
  if ('unavailable' in got) {
    warnUnlifted(log, got.unavailable, 'unknown');
    return;
  }
  const pubsub = /pubsub (\S+) (\S+) (\S+)/.exec(got.entries.get('client-output-buffer-limit') ?? '');
  if (pubsub === null || (pubsub[1] === '0' && pubsub[2] === '0')) return;
  const set = await sendConfig(control, ['SET', 'client-output-buffer-limit', LIFTED_PUBSUB_LIMIT]);
  if ('unavailable' in set) {
    warnUnlifted(log, set.unavailable, pubsub[0]);
    return;
  }
  log.warn({ was: pubsub[0] }, 'lifted client-output-buffer-limit for pubsub clients: the runtime’s keyspace subscription must not be dropped');
}

function warnUnlifted(log: Logger, configError: string, current: string): void {
  log.warn(
    { config: configError, pubsubLimit: current },
    'CONFIG is unavailable: the runtime cannot lift client-output-buffer-limit for pubsub clients; add `client-output-buffer-limit pubsub 0 0 0` to redis.conf, or a burst of changes to watched keys may make the server drop the runtime’s keyspace subscription (the runtime then closes)',
  );
}

/**
 * The runtime keeps its libraries and stream positions in keys of the server (INTERNAL_KEY_PREFIX). An
 * `allkeys-*` maxmemory policy may evict them like any other key, and a runtime started after that has no library
 * to run: nothing is captured. Redis cannot exempt a key from eviction, so the runtime says so at start. (Where
 * CONFIG is unavailable, readRequestLimits has said so already.)
 */
export async function warnEvictingPolicy(control: RedisConnection, log: Logger): Promise<void> {
  const got = await sendConfig(control, ['GET', 'maxmemory-policy']);
  const policy = 'entries' in got ? got.entries.get('maxmemory-policy') : undefined;
  if (policy === undefined || !policy.startsWith('allkeys-')) return;
  log.warn(
    { maxmemoryPolicy: policy },
    `maxmemory-policy ${policy} may evict the runtime’s own keys (${INTERNAL_KEY_PREFIX}…, where its libraries are kept) as well as the hashes it captures: a runtime started after such an eviction runs no library, and nothing is captured. Use noeviction or a volatile-* policy`,
  );
}
