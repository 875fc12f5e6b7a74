/**
 * The one way the CLI, the worker and deploy open a node-redis connection (URL → AUTH/HELLO/SELECT, then a
 * PING): the whole handshake has a deadline, so a listener that accepts and never answers cannot hang a
 * command; a first connection that fails is not retried; and the error names the URL with its password
 * redacted and the cause (ECONNREFUSED, WRONGPASS, NOAUTH, no reply...).
 */
import { createClient } from '@redis/client';
import { RedisConnectionError, errorMessage } from './errors.js';
import { redactUrl } from './redact-url.js';
import { parseRedisUrl } from './redis-address.js';

export type NodeRedisClient = ReturnType<typeof createClient>;

/** Longest a connection may take to connect and answer its handshake. */
export const REDIS_CONNECT_TIMEOUT_MS = 5_000;

export interface RedisConnectOptions {
  /** Once connected, reconnect with a capped backoff after a lost connection (long-running clients). @defaultValue false */
  reconnect?: boolean;
  /** Connection errors after the first connect (node-redis emits them as events; unhandled they would crash). */
  onError?: (error: Error) => void;
  /** The hint printed with a failure. */
  suggestion?: string;
  /** @defaultValue REDIS_CONNECT_TIMEOUT_MS */
  timeoutMs?: number;
  /** Gives up at once when aborted (a Ctrl-C while Redis does not answer), as at the deadline. */
  signal?: AbortSignal;
}

export async function connectRedis(url: string, options: RedisConnectOptions = {}): Promise<NodeRedisClient> {
  const timeoutMs = options.timeoutMs ?? REDIS_CONNECT_TIMEOUT_MS;
  let connected = false;
  let client: NodeRedisClient;
  try {
    const reconnectStrategy = (retries: number) => (connected && options.reconnect === true ? Math.min(100 * 2 ** retries, 2_000) : false);
    client = url.startsWith('unix:') ? createClient(unixSocketOptions(url, timeoutMs, reconnectStrategy)) : createClient({ url, socket: { connectTimeout: timeoutMs, reconnectStrategy } });
  } catch (cause) {
    throw connectionError(url, cause, options.suggestion);
  }
  client.on('error', options.onError ?? (() => undefined));
  // Without credentials or a database the handshake sends nothing: the PING proves a Redis answers.
  const handshake = client.connect().then(() => client.ping());
  handshake.catch(() => undefined); // after the deadline nobody awaits it
  let timer: NodeJS.Timeout | undefined;
  let onAbort = (): void => undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs / 1000} s`)), timeoutMs);
    onAbort = () => reject(new Error('interrupted while waiting for a reply'));
  });
  if (options.signal?.aborted === true) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.race([handshake, deadline]);
    connected = true;
    return client;
  } catch (cause) {
    if (client.isOpen) client.destroy();
    throw connectionError(url, cause, options.suggestion);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** node-redis takes no unix:// URL: the same address as the runtime reads it (redis-address.ts), as options. */
function unixSocketOptions(url: string, connectTimeout: number, reconnectStrategy: (retries: number) => number | false) {
  const address = parseRedisUrl(url);
  return {
    socket: { path: address.path!, connectTimeout, reconnectStrategy },
    database: address.db,
    ...(address.username === undefined ? {} : { username: address.username }),
    ...(address.password === undefined ? {} : { password: address.password }),
  };
}

function connectionError(url: string, cause: unknown, suggestion: string | undefined): RedisConnectionError {
  const redacted = redactUrl(url);
  return new RedisConnectionError(`cannot connect to Redis at ${redacted}: ${errorMessage(cause)}`, { cause, context: { url: redacted, ...(suggestion === undefined ? {} : { suggestion }) } });
}
