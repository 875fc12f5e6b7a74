/**
 * `writebehind runtime [--port 6380] [--host 127.0.0.1] [--protected-mode yes] [--redis redis://127.0.0.1:6379] [--lock-timeout 500] [--memory-limit 200] [--metrics-port N] [--metrics-host H] [--log-level $LOG_LEVEL|info]`:
 * the local RedisGears 2 runtime in front of a redis-server, until SIGINT or SIGTERM.
 * Runs ../actions/runtime.ts.
 */
import { Command } from 'commander';
import { DEFAULT_MEMORY_LIMIT_MB } from '../../runtime/library-host/memory-limit.js';
import { DEFAULT_METRICS_HOST } from '../../shared/metrics-server.js';
import type { RuntimeCommandOptions } from '../actions/runtime.js';
import { shutdownSignal } from '../preflights/shutdown-signal.js';

export const DEFAULT_RUNTIME_PORT = 6380;
export const DEFAULT_BACKING_REDIS_URL = 'redis://127.0.0.1:6379';
/** RedisGears 2's default `lock-redis-timeout`. */
export const DEFAULT_LOCK_TIMEOUT_MS = 500;

export const runtimeCommand = new Command('runtime')
  .description('run the local RedisGears 2 runtime (TFUNCTION/TFCALL + triggers) in front of a redis-server')
  .option('--port <port>', 'port to listen on (0: any free port)', String(DEFAULT_RUNTIME_PORT))
  .option('--host <host>', 'interface to listen on', '127.0.0.1')
  .option('--protected-mode <yes|no>', 'refuse a non-loopback --host unless the backing redis-server requires a password', 'yes')
  .option('--redis <url>', 'the redis-server behind the runtime: redis://[user:password@]host:port, or unix:///path/redis.sock (faster: each captured write makes round trips to it)', DEFAULT_BACKING_REDIS_URL)
  .option('--lock-timeout <ms>', "RedisGears' lock-redis-timeout: longest a trigger or function may hold the lock (100 to 1e9)", String(DEFAULT_LOCK_TIMEOUT_MS))
  .option('--memory-limit <mb>', "RedisGears' v8-maxmemory: heap limit of each library's isolate, in MB (at least 8)", String(DEFAULT_MEMORY_LIMIT_MB))
  .option('--metrics-port <port>', "serve Prometheus metrics (the exclusive lock's hold and wait times, settings found changed on redis-server, bytes owed to clients) on GET /metrics at this port")
  .option('--metrics-host <host>', 'interface of /metrics (0.0.0.0: every interface)', DEFAULT_METRICS_HOST)
  .option('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent (default: $LOG_LEVEL or info)')
  .action(async (options: RuntimeCommandOptions) => {
    const stopRequested = shutdownSignal(); // before the start: see preflights/shutdown-signal.ts
    const { runRuntime } = await import('../actions/runtime.js');
    await runRuntime(options, undefined, stopRequested);
  });
