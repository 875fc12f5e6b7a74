/** What `writebehind runtime` runs (../commands/runtime.ts defines it). */
import * as z from 'zod';
import { DEFAULT_MEMORY_LIMIT_MB } from '../../runtime/library-host/memory-limit.js';
import { Runtime } from '../../runtime/runtime.js';
import { parseRedisUrl } from '../../shared/redis-address.js';
import { errorMessage } from '../../shared/errors.js';
import { createLogger } from '../../shared/log.js';
import { redactUrl } from '../../shared/redact-url.js';
import { DEFAULT_METRICS_HOST } from '../../shared/metrics-server.js';
import { checkBackingRedis } from '../preflights/backing-redis.js';
import { parseOptions } from '../preflights/parse-options.js';
import { DEFAULT_BACKING_REDIS_URL, DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_RUNTIME_PORT } from '../commands/runtime.js';

export const runtimeOptionsSchema = z.object({
  /** Port the runtime listens on (0: any free port). */
  port: z.coerce.number().int().min(0).max(65535).default(DEFAULT_RUNTIME_PORT),
  /** Interface to listen on. */
  host: z.string().min(1).default('127.0.0.1'),
  /** The redis-server behind the runtime. */
  redis: z
    .string()
    .default(DEFAULT_BACKING_REDIS_URL)
    .superRefine((url, context) => {
      try {
        parseRedisUrl(url);
      } catch (error) {
        context.addIssue({ code: 'custom', message: errorMessage(error) });
      }
    }),
  /** RedisGears' `lock-redis-timeout` (same range): how long library code may hold the lock before it is killed. */
  lockTimeout: z.coerce.number().int().min(100).max(1e9).default(DEFAULT_LOCK_TIMEOUT_MS),
  /** RedisGears' `v8-maxmemory`, in MB: the heap limit of each library's isolate. */
  memoryLimit: z.coerce.number().int().min(8).max(1e6).default(DEFAULT_MEMORY_LIMIT_MB),
  /** Refuse a non-loopback --host unless the backing server requires a password (redis-server's word: yes/no). */
  protectedMode: z.enum(['yes', 'no']).default('yes'),
  /** Port of GET /metrics (Prometheus: the exclusive lock's hold and wait times); none when absent. */
  metricsPort: z.coerce.number().int().min(0).max(65_535).optional(),
  /** Interface /metrics listens on: loopback unless opened on purpose (0.0.0.0: every interface). */
  metricsHost: z.string().min(1).default(DEFAULT_METRICS_HOST),
  /** pino level; when absent, LOG_LEVEL (or info), as every other command takes it (createLogger). */
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional(),
});

export type RuntimeCommandOptions = z.input<typeof runtimeOptionsSchema>;

/**
 * Starts the runtime and closes it once `stopRequested` resolves (the command passes shutdownSignal(), made
 * before the start so that a signal during it waits for the start instead of killing the process after the
 * runtime marked itself running: preflights/shutdown-signal.ts). Resolves once it listens (the process then
 * lives as long as the listener does).
 */
export async function runRuntime(
  options: RuntimeCommandOptions,
  print: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  stopRequested?: Promise<NodeJS.Signals>,
): Promise<Runtime> {
  // As every command: each problem names the flag as typed (--lock-timeout, not the schema's lockTimeout).
  const { port, host, redis, lockTimeout, memoryLimit, logLevel, protectedMode, metricsPort, metricsHost } = parseOptions('runtime', runtimeOptionsSchema, options);
  const log = createLogger({ ...(logLevel === undefined ? {} : { level: logLevel }), name: 'runtime' });
  await checkBackingRedis(redis, '--redis');
  const runtime = await Runtime.start({ redisUrl: redis, port, host, log, lockTimeoutMs: lockTimeout, memoryLimitMb: memoryLimit, protectedMode: protectedMode === 'yes',
    ...(metricsPort === undefined ? {} : { metrics: { serve: { port: metricsPort, host: metricsHost } } }),
  });
  // The runtime closes itself when it loses the server; the process then ends, and must not look successful.
  runtime.on('error', (error: unknown) => {
    log.error({ err: error }, 'runtime error');
    process.exitCode = 1;
  });
  print(`RedisGears 2 runtime listening on ${runtime.url} (redis-server: ${redactUrl(redis)})`);
  void stopRequested?.then((signal) => {
    log.info({ signal }, 'shutting down');
    void runtime.close();
  });
  return runtime;
}
