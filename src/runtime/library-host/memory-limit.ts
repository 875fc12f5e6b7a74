/** RedisGears' default `v8-maxmemory` (200MB). A module of its own so the CLI's help can name it without loading the library host. */
export const DEFAULT_MEMORY_LIMIT_MB = 200;
