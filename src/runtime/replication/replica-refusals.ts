/**
 * What RedisGears refuses on a replica (reference §TFCALL errors, §3.2 block): code that might write does not
 * start there, rather than running until the server refuses its first write. The texts name "avoid replication
 * traffic" too (`RedisModule_AvoidReplicaTraffic`, true during `CLIENT PAUSE` on redis-server 7.0); the runtime
 * applies them on a replica only (docs/runtime.md, replicas and failover).
 */

/** TFCALL / TFCALLASYNC of a function without the `no-writes` flag. */
export const FUNCTION_ON_REPLICA = 'Err can not run a function that might perform writes on a replica or when the "avoid replication traffic" option is enabled';

/** `asyncClient.block()` of a principal without `no-writes` (a coroutine started before the demotion). */
export const LOCK_ON_REPLICA = 'Can not lock redis for write on replica or when the "avoid replication traffic" option is enabled';
