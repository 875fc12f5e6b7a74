/**
 * `writebehind backfill --writer NAME [--match GLOB] [--rate N] [--restart] [--redis URL] [--config FILE]`:
 * captures the current image of every existing hash of a writer through the library, so hashes written before
 * the library was deployed reach MySQL through the worker like any change (same batching, dead letters and
 * exactly-once). Progress goes to stderr once a second; the SCAN cursor is stored after every page, so an
 * interrupted run (Ctrl-C: exit 130 after the current page; or a crash) is resumed by running it again.
 * Runs ../actions/backfill.ts.
 */
import { Command } from 'commander';
import { WriteBehindError } from '../../shared/errors.js';
import type { BackfillCommandOptions } from '../actions/backfill.js';
import { shutdownSignal } from '../preflights/shutdown-signal.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_REDIS_URL } from './defaults.js';

export const backfillCommand = new Command('backfill')
  .description("captures every existing hash of a writer through the library, so the worker writes its row (resumable)")
  // Not commander's requiredOption: its error exits 1; zod's missing --writer is a bad option (exit 2).
  .option('--writer <name>', 'writer name, as the config names it (required)')
  .option('--match <glob>', 'only keys whose id (after <keysPrefix>:) matches this glob', '*')
  .option('--rate <n>', 'at most this many keys per second (default: as fast as Redis takes them)')
  .option('--restart', 'start over instead of resuming the stored SCAN cursor')
  .option('--redis <url>', `Redis running the library (default: $REDIS_URL or ${DEFAULT_REDIS_URL})`)
  .option('--config <file>', 'write-behind config file (it names the writers)', DEFAULT_CONFIG_PATH)
  .action(async (options: BackfillCommandOptions) => {
    const { runBackfill } = await import('../actions/backfill.js');
    const controller = new AbortController();
    void shutdownSignal().then(() => controller.abort());
    const result = await runBackfill(options, controller.signal);
    if (result.interrupted) throw new WriteBehindError('INTERRUPTED', `backfill of ${result.state.match} interrupted at SCAN cursor ${result.state.cursor}: run the same command again to resume`);
    if (result.killed.length > 0) throw new WriteBehindError('NOT_CAPTURED', `backfill done but ${result.killed.length} key(s) not captured (named above): re-write them or run the backfill again once lock-redis-timeout is raised`);
  });
