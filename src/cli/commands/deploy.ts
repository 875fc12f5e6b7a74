/**
 * `writebehind deploy [--redis URL] [--config FILE]`: loads the library with the configuration into Redis
 * (`TFUNCTION LOAD REPLACE CONFIG`), replacing an older version in place. Runs ../actions/deploy.ts.
 */
import { Command } from 'commander';
import type { DeployOptions } from '../actions/deploy.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_REDIS_URL } from './defaults.js';

export const deployCommand = new Command('deploy')
  .description('load the RedisGears library with the config into Redis (TFUNCTION LOAD REPLACE CONFIG)')
  .option('--redis <url>', `Redis URL (default: $REDIS_URL or ${DEFAULT_REDIS_URL})`)
  .option('--config <file>', 'write-behind config file', DEFAULT_CONFIG_PATH)
  .action(async (options: DeployOptions) => {
    const { runDeploy } = await import('../actions/deploy.js');
    await runDeploy(options);
  });
