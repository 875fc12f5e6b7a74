/**
 * `writebehind verify --writer NAME [--sample N] [--repair] [--json] [--wait-ms N] [--redis URL] [--mysql URL] [--config FILE]`:
 * compares every hash of a writer (or a sample) with its row and every row with its hash, and reports missing,
 * stale (column by column) and orphan rows; exits 1 when it found any (so a cron job or CI can alert), even
 * after --repair, which re-captures each differing key through the library (an image, or a delete for an
 * orphan) and never writes MySQL itself. Only what the worker has committed is compared: a running worker is
 * needed whenever changes are in flight.
 * Runs ../actions/verify.ts.
 */
import { Command } from 'commander';
import { WriteBehindError } from '../../shared/errors.js';
import { differenceCount } from '../../reconcile/difference-report.js';
import type { VerifyCommandOptions } from '../actions/verify.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_MYSQL_URL, DEFAULT_REDIS_URL } from './defaults.js';

export const verifyCommand = new Command('verify')
  .description('compares the hashes of a writer with their rows; exits 1 on missing, stale or orphan rows (--repair re-captures them)')
  // Not commander's requiredOption: its error exits 1; zod's missing --writer is a bad option (exit 2).
  .option('--writer <name>', 'writer name, as the config names it (required)')
  .option('--sample <n>', 'compare about this many hashes and rows instead of all')
  .option('--repair', 're-capture each differing key through the library (an image, or a delete for an orphan row)')
  .option('--json', 'print the report as JSON')
  .option('--wait-ms <n>', 'longest wait for the worker to commit the changes in flight', '60000')
  .option('--redis <url>', `Redis running the library (default: $REDIS_URL or ${DEFAULT_REDIS_URL})`)
  .option('--mysql <url>', `MySQL the worker writes (default: $MYSQL_URL or ${DEFAULT_MYSQL_URL})`)
  .option('--config <file>', 'write-behind config file (it names the writers)', DEFAULT_CONFIG_PATH)
  .action(async (options: VerifyCommandOptions) => {
    const { runVerify } = await import('../actions/verify.js');
    const report = await runVerify(options);
    const differences = differenceCount(report);
    if (differences > 0) throw new WriteBehindError('DIFFERENCES', `${differences} difference(s) between Redis and MySQL for ${report.writer}${report.repaired > 0 ? ` (${report.repaired} record(s) re-captured: verify again once the worker has written them)` : ''}`);
  });
