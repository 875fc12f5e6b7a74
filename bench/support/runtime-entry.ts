/**
 * `node dist/bench/support/runtime-entry.js --redis <url> --port <n>`: the local runtime (`Runtime.start`) in
 * a process of its own, so the bench's load generator does not share its event loop and the chaos campaign
 * can SIGKILL it. SIGTERM closes it cleanly.
 */
import { Command } from 'commander';
import { Runtime } from '../../src/runtime/index.js';
import { createLogger } from '../../src/shared/log.js';

const options = new Command('runtime-entry')
  .requiredOption('--redis <url>', 'the redis-server behind the runtime')
  .requiredOption('--port <port>', 'port to listen on')
  .option('--settings-check-ms <ms>', 'RuntimeOptions.settingsCheckMs (0: off, for a scenario that switches the notify flags off on purpose)')
  .parse(process.argv)
  .opts<{ redis: string; port: string; settingsCheckMs?: string }>();

const log = createLogger({ name: 'bench-runtime', level: process.env['LOG_LEVEL'] ?? 'warn' });
const runtime = await Runtime.start({ redisUrl: options.redis, port: Number(options.port), log, ...(options.settingsCheckMs === undefined ? {} : { settingsCheckMs: Number(options.settingsCheckMs) }) });
runtime.on('error', (error: unknown) => log.error({ err: error }, 'runtime error'));
const stop = () => void runtime.close().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
