/**
 * `writebehind deploy [--redis URL] [--config FILE]`: loads the library with the configuration into Redis
 * (`TFUNCTION LOAD REPLACE CONFIG`), replacing an older version in place. Runs ../actions/deploy.ts.
 */
import { Command } from 'commander';
import * as z from 'zod';
import { DEFAULT_CONFIG_PATH } from '../../shared/config-file.js';
import { DEFAULT_REDIS_URL } from './url-options.js';

export const deployOptionsSchema = z.object({
  /** Redis (or the local runtime) to load the library into; falls back to REDIS_URL, then the runtime's port. */
  redis: z
    .string()
    .default(() => process.env['REDIS_URL'] ?? DEFAULT_REDIS_URL)
    .refine((url) => /^rediss?:\/\//.test(url), 'must be a redis:// or rediss:// URL'),
  /** The write-behind configuration file. */
  config: z.string().min(1).default(DEFAULT_CONFIG_PATH),
});

export type DeployOptions = z.input<typeof deployOptionsSchema>;

export const deployCommand = new Command('deploy')
  .description('load the RedisGears library with the config into Redis (TFUNCTION LOAD REPLACE CONFIG)')
  .option('--redis <url>', `Redis URL (default: $REDIS_URL or ${DEFAULT_REDIS_URL})`)
  .option('--config <file>', 'write-behind config file', DEFAULT_CONFIG_PATH)
  .action(async (options: DeployOptions) => {
    const { runDeploy } = await import('../actions/deploy.js');
    await runDeploy(options);
  });
