/**
 * `writebehind backfill --writer NAME [--match GLOB] [--rate N] [--restart] [--redis URL] [--config FILE]`:
 * captures the current image of every existing hash of a writer through the library, so hashes written before
 * the library was deployed reach MySQL through the worker like any change (same batching, dead letters and
 * exactly-once). Progress goes to stderr once a second; the SCAN cursor is stored after every page, so an
 * interrupted run (Ctrl-C: exit 130 after the current page; or a crash) is resumed by running it again.
 * Runs ../actions/backfill.ts.
 */
import { Command } from 'commander';
import * as z from 'zod';
import { DEFAULT_CONFIG_PATH } from '../../shared/config-file.js';
import { WriteBehindError } from '../../shared/errors.js';
import { shutdownSignal } from '../preflights/shutdown-signal.js';
import { DEFAULT_REDIS_URL, redisUrlSchema } from './url-options.js';

export const backfillOptionsSchema = z.object({
  writer: z.string({ error: 'is required' }).regex(/^[A-Za-z0-9_]+$/, 'must be a writer name ([A-Za-z0-9_]+)'),
  /** Glob over the id part of the keys: `--match '2024*'` takes `person:2024*`. */
  match: z.string().min(1).max(1000).default('*'),
  /** Keys per second at most, so live writes keep their latency. */
  rate: z.coerce.number().int().min(1, 'must be at least 1 key/s').max(10_000_000).optional(),
  /** Start over instead of resuming a stored cursor. */
  restart: z.boolean().default(false),
  redis: redisUrlSchema.default(() => process.env['REDIS_URL'] ?? DEFAULT_REDIS_URL),
  config: z.string().min(1).default(DEFAULT_CONFIG_PATH),
});

export type BackfillCommandOptions = z.input<typeof backfillOptionsSchema>;

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
  });
