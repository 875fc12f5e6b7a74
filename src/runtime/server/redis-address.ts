/** Where the backing redis-server listens, parsed once from a `redis://[user:password@]host:port[/db]` URL. */
import { ConfigError } from '../../shared/errors.js';

export interface RedisAddress {
  readonly host: string;
  readonly port: number;
  /** Credentials for the runtime's own connections; client connections authenticate themselves. */
  readonly username?: string;
  readonly password?: string;
}

export function parseRedisUrl(url: string): RedisAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new ConfigError(`redisUrl is not a valid URL: ${url}`, { cause });
  }
  if (parsed.protocol !== 'redis:') throw new ConfigError(`redisUrl must start with redis:// (got ${parsed.protocol}//)`);
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const password = parsed.password === '' ? undefined : decodeURIComponent(parsed.password);
  const username = parsed.username === '' ? undefined : decodeURIComponent(parsed.username);
  return {
    host: parsed.hostname === '' ? '127.0.0.1' : parsed.hostname.replace(/^\[|\]$/g, ''),
    port,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
  };
}
