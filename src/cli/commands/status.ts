/**
 * `writebehind status [--redis URL] [--config FILE] [--json]`: per writer, the backlog, batches, the age of the
 * oldest uncommitted record, committed rows, dead letters, captures that failed inside Redis and the last
 * error; and whether the deployed library is the CLI's version.
 * Runs ../actions/status.ts.
 */
import { Command } from 'commander';
import * as z from 'zod';
import { DEFAULT_CONFIG_PATH } from '../../shared/config-file.js';
import { DEFAULT_REDIS_URL, redisUrlSchema } from './url-options.js';

export const statusOptionsSchema = z.object({
  redis: redisUrlSchema.default(() => process.env['REDIS_URL'] ?? DEFAULT_REDIS_URL),
  config: z.string().min(1).default(DEFAULT_CONFIG_PATH),
  json: z.boolean().default(false),
});

export type StatusOptions = z.input<typeof statusOptionsSchema>;

export const statusCommand = new Command('status')
  .description('per writer: backlog, pending batches, oldest pending age, committed rows, dead letters, failed captures, last error')
  .option('--redis <url>', `Redis running the library (default: $REDIS_URL or ${DEFAULT_REDIS_URL})`)
  .option('--config <file>', 'write-behind config file', DEFAULT_CONFIG_PATH)
  .option('--json', 'print JSON for scripts')
  .action(async (options: StatusOptions) => {
    const { runStatus } = await import('../actions/status.js');
    await runStatus(options);
  });
