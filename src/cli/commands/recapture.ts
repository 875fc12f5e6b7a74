/**
 * `writebehind recapture --slots LIST [--redis URL] [--config FILE]`: on a Redis Cluster, captures again the
 * current state of every mapped hash of the given slots, on each slot's owner (the library's `recapture`), so
 * a change whose capture failed while its slot migrated reaches MySQL (docs/scale-out.md, slot migration). Run
 * it after moving slots with `redis-cli --cluster reshard`; `writebehind reshard` does it for each slot it moves.
 * Runs ../actions/recapture.ts.
 */
import { Command } from 'commander';
import * as z from 'zod';
import { DEFAULT_CONFIG_PATH } from '../../shared/config-file.js';
import { slotListSchema } from './slot-options.js';
import { DEFAULT_REDIS_URL, redisUrlSchema } from './url-options.js';

export const recaptureOptionsSchema = z.object({
  slots: slotListSchema,
  redis: redisUrlSchema.default(() => process.env['REDIS_URL'] ?? DEFAULT_REDIS_URL),
  config: z.string().min(1).default(DEFAULT_CONFIG_PATH),
});

export type RecaptureCommandOptions = z.input<typeof recaptureOptionsSchema>;

export const recaptureCommand = new Command('recapture')
  .description("on a Redis Cluster: captures the current state of every mapped hash of the given slots again (after a resharding's window)")
  .option('--slots <list>', 'slots and ranges, e.g. 5061 or 0-99,7000 (required)')
  .option('--redis <url>', `any node of the cluster (default: $REDIS_URL or ${DEFAULT_REDIS_URL})`)
  .option('--config <file>', 'write-behind config file (it names the library and the writers)', DEFAULT_CONFIG_PATH)
  .action(async (options: RecaptureCommandOptions) => {
    const { runRecapture } = await import('../actions/recapture.js');
    await runRecapture(options);
  });
