/** What `writebehind runtime` runs (../commands/runtime.ts defines it). */
import { Runtime } from '../../runtime/runtime.js';
import { ConfigError } from '../../shared/errors.js';
import { createLogger } from '../../shared/log.js';
import { redactUrl } from '../../shared/redact-url.js';
import { checkBackingRedis } from '../preflights/backing-redis.js';
import { runtimeOptionsSchema, type RuntimeCommandOptions } from '../commands/runtime.js';

/**
 * Starts the runtime and closes it on SIGINT/SIGTERM. Resolves once it listens (the process then lives as long
 * as the listener does).
 */
export async function runRuntime(options: RuntimeCommandOptions, print: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Promise<Runtime> {
  const parsed = runtimeOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new ConfigError(`invalid runtime options: ${problems}`);
  }
  const { port, host, redis, lockTimeout, memoryLimit, logLevel, protectedMode } = parsed.data;
  const log = createLogger({ level: logLevel, name: 'runtime' });
  await checkBackingRedis(redis);
  const runtime = await Runtime.start({ redisUrl: redis, port, host, log, lockTimeoutMs: lockTimeout, memoryLimitMb: memoryLimit, protectedMode: protectedMode === 'yes' });
  // The runtime closes itself when it loses the server; the process then ends, and must not look successful.
  runtime.on('error', (error: unknown) => {
    log.error({ err: error }, 'runtime error');
    process.exitCode = 1;
  });
  print(`RedisGears 2 runtime listening on ${runtime.url} (redis-server: ${redactUrl(redis)})`);
  const shutdown = (signal: NodeJS.Signals) => {
    process.off('SIGINT', shutdown);
    process.off('SIGTERM', shutdown);
    log.info({ signal }, 'shutting down');
    void runtime.close();
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  return runtime;
}
