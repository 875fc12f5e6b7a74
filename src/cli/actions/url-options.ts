/** The zod schemas of the `--redis` and `--mysql` options most commands share. */
import * as z from 'zod';

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
