/**
 * `writebehind start [--redis URL] [--port 6380] [--mysql URL] [--config FILE] [--metrics-port N] [--metrics-host H]`: the whole pipeline on a local
 * default, for the Quick start: the RedisGears runtime over the local redis-server, the library deployed with
 * the config, the example tables created in MySQL if missing, and a worker. Prints what to type; Ctrl-C stops
 * everything cleanly.
 * Runs ../actions/start.ts.
 */
import { Command } from 'commander';
import { DEFAULT_MEMORY_LIMIT_MB } from '../../runtime/library-host/memory-limit.js';
import { DEFAULT_METRICS_HOST } from '../../shared/metrics-server.js';
import type { StartOptions } from '../actions/start.js';
import { closeWithin, shutdownSignal } from '../preflights/shutdown-signal.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_MYSQL_URL } from './defaults.js';
import { DEFAULT_LOCK_TIMEOUT_MS } from './runtime.js';

/** The plain redis-server the runtime fronts. */
export const DEFAULT_BACKING_REDIS_URL = 'redis://127.0.0.1:6379';

export const startCommand = new Command('start')
  .description('run everything locally: the RedisGears runtime over redis-server, the library, the example tables and a worker')
  .option('--redis <url>', `the backing redis-server (default: $REDIS_URL or ${DEFAULT_BACKING_REDIS_URL})`)
  .option('--port <port>', 'port of the runtime (where applications connect)', '6380')
  .option('--lock-timeout <ms>', "RedisGears' lock-redis-timeout of the runtime (100 to 1e9)", String(DEFAULT_LOCK_TIMEOUT_MS))
  .option('--memory-limit <mb>', "RedisGears' v8-maxmemory of each library's isolate, in MB", String(DEFAULT_MEMORY_LIMIT_MB))
  .option('--mysql <url>', `MySQL URL (default: $MYSQL_URL or ${DEFAULT_MYSQL_URL})`)
  .option('--config <file>', 'write-behind config file', DEFAULT_CONFIG_PATH)
  .option('--metrics-port <port>', "serve Prometheus metrics (the worker's, and the runtime's lock) on GET /metrics at this port")
  .option('--metrics-host <host>', 'interface of /metrics (0.0.0.0: every interface)', DEFAULT_METRICS_HOST)
  .action(async (options: StartOptions) => {
    const stopRequested = shutdownSignal(); // before the start: see preflights/shutdown-signal.ts
    const { runStart } = await import('../actions/start.js');
    const pipeline = await runStart(options);
    await stopRequested;
    process.stdout.write('stopping... (Ctrl-C again stops at once)\n');
    const { createLogger } = await import('../../shared/log.js');
    await closeWithin(() => pipeline.close(), createLogger({ name: 'start' }));
  });
