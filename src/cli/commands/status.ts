/**
 * `writebehind status [--redis URL] [--config FILE] [--json]`: per writer, the backlog, batches, the age of the
 * oldest uncommitted record, committed rows, dead letters, captures that failed inside Redis and the last
 * error; and whether the deployed library is the CLI's version. Exits 1 after the report when the library is not
 * deployed on that Redis (or does not answer), so a monitoring script can tell from the exit code alone.
 * Runs ../actions/status.ts.
 */
import { Command } from 'commander';
import type { StatusOptions } from '../actions/status.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_REDIS_URL } from './defaults.js';

export const statusCommand = new Command('status')
  .description('per writer: backlog, pending batches, oldest pending age, committed rows, dead letters, failed captures, last error')
  .option('--redis <url>', `Redis running the library (default: $REDIS_URL or ${DEFAULT_REDIS_URL})`)
  .option('--config <file>', 'write-behind config file', DEFAULT_CONFIG_PATH)
  .option('--json', 'print JSON for scripts')
  .action(async (options: StatusOptions) => {
    const { notDeployedError, runStatus } = await import('../actions/status.js');
    const notDeployed = notDeployedError(await runStatus(options));
    if (notDeployed !== null) throw notDeployed;
  });
