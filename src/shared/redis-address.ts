/**
 * Where the backing redis-server listens, parsed once from its URL: `redis://[user:password@]host:port[/db]`, or
 * `unix://[user:password@localhost]/path/to/redis.sock[?db=N]` for its Unix socket (a round trip there costs about
 * two thirds of a loopback TCP one, and a captured write makes several).
 */
import { ConfigError } from './errors.js';
import { redactUrl } from './redact-url.js';

export interface RedisAddress {
  readonly host: string;
  readonly port: number;
  /** The Unix socket's path; host and port are then unused. */
  readonly path?: string;
  /** The database the runtime's own connections select: `/db` of a redis:// URL, `?db=` of a unix:// one. */
  readonly db: number;
  /** For messages: `host:port`, or `unix:<path>`. */
  readonly where: string;
  /** Credentials for the runtime's own connections; client connections authenticate themselves. */
  readonly username?: string;
  readonly password?: string;
}

export function parseRedisUrl(url: string): RedisAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new ConfigError(`Redis URL is not valid: ${redactUrl(url)}`, { cause });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'unix:') throw new ConfigError(`Redis URL must start with redis:// or unix:// (got ${parsed.protocol}//)`);
  const password = parsed.password === '' ? undefined : decodeURIComponent(parsed.password);
  const username = parsed.username === '' ? undefined : decodeURIComponent(parsed.username);
  const credentials = { ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password }) };
  if (parsed.protocol === 'unix:') {
    const path = decodeURIComponent(parsed.pathname);
    if (path === '' || path === '/') throw new ConfigError(`Redis URL unix:// needs the socket's path, as unix:///var/run/redis/redis.sock (got ${redactUrl(url)})`);
    if (parsed.hostname !== '' && parsed.hostname !== 'localhost') throw new ConfigError(`Redis URL unix:// takes no host but localhost (got ${parsed.hostname})`);
    return { host: 'localhost', port: 0, path, db: database(parsed.searchParams.get('db') ?? '', url), where: `unix:${path}`, ...credentials };
  }
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const host = parsed.hostname === '' ? '127.0.0.1' : parsed.hostname.replace(/^\[|\]$/g, '');
  return { host, port, db: database(parsed.pathname.slice(1), url), where: `${host}:${port}`, ...credentials };
}

function database(text: string, url: string): number {
  if (text === '') return 0;
  const db = Number(text);
  if (!Number.isInteger(db) || db < 0) throw new ConfigError(`Redis URL names no database number (${text}): ${redactUrl(url)}`);
  return db;
}

/** The options of net.connect for this address. */
export function socketOptions(address: RedisAddress): { path: string } | { host: string; port: number } {
  return address.path === undefined ? { host: address.host, port: address.port } : { path: address.path };
}
