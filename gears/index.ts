/**
 * Entry point of the RedisGears library (placeholder until the capture and batching code lands).
 */
declare const __LIBRARY_VERSION__: string;

redis.registerFunction('version', () => __LIBRARY_VERSION__, { flags: [redis.functionFlags.NO_WRITES] });
