/**
 * The library's configuration: `redis.config` (the CONFIG JSON of TFUNCTION LOAD), validated with the same schema
 * the worker uses. An invalid document must fail the load, so the error is thrown at top level and RedisGears
 * reports it as "Failed loading library: <message>.".
 */
import { parseConfig, type WriteBehindConfig } from '../src/shared/config.js';

export function loadLibraryConfig(raw: unknown): WriteBehindConfig {
  const result = parseConfig(raw);
  // A plain string, not an Error: RedisGears shows the thrown value's string form, and "Error: " adds nothing.
  if (!result.ok) throw result.message;
  return result.config;
}
