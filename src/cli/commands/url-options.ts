/**
 * The `--redis` and `--mysql` options most commands share: their defaults and zod schemas. Light on purpose
 * (zod only): every command file imports it, and `--help` loads every command file.
 */
import * as z from 'zod';

/** The local runtime's port: `writebehind runtime` listens there by default. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6380';
export const DEFAULT_MYSQL_URL = 'mysql://root@127.0.0.1:3306/test';

export const redisUrlSchema = z.string().refine((url) => /^rediss?:\/\/[^/]/.test(url) && isValidUrl(url), 'must be a redis:// or rediss:// URL (percent-encode / % @ : in the password)');
export const mysqlUrlSchema = z.string().refine((url) => /^mysql:\/\/[^/]/.test(url) && isValidUrl(url), 'must be a mysql:// URL (mysql://user:password@host:port/database; percent-encode / % @ : in the password)');

/** The URL parses, credentials included (a bare % in a password does not decode); the message never echoes it. */
function isValidUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    decodeURIComponent(parsed.username);
    decodeURIComponent(parsed.password);
    return true;
  } catch {
    return false;
  }
}
