/**
 * `writebehind recapture --slots LIST [--redis URL] [--config FILE]`: on a Redis Cluster, captures again the
 * current state of every mapped hash of the given slots, on each slot's owner (the library's `recapture`), so
 * a change whose capture failed while its slot migrated reaches MySQL (docs/scale-out.md, slot migration). Run
 * it after moving slots with `redis-cli --cluster reshard`; `writebehind reshard` does it for each slot it moves.
 */
import { Command } from 'commander';
import * as z from 'zod';
import { DEFAULT_CONFIG_PATH, loadConfigFile } from '../../shared/config-file.js';
import { ClusterAdmin } from '../../reshard/cluster-admin.js';
import { recaptureSlots, type RecaptureSlotsResult } from '../../reshard/recapture-slots.js';
import { recaptureTarget } from '../../reshard/recapture-target.js';
import { parseOptions } from '../preflights/parse-options.js';
import { DEFAULT_REDIS_URL } from './deploy.js';
import { slotListSchema } from './slot-options.js';
import { redisUrlSchema } from './worker.js';

export const recaptureOptionsSchema = z.object({
  slots: slotListSchema,
  redis: redisUrlSchema.default(() => process.env['REDIS_URL'] ?? DEFAULT_REDIS_URL),
  config: z.string().min(1).default(DEFAULT_CONFIG_PATH),
});

export type RecaptureCommandOptions = z.input<typeof recaptureOptionsSchema>;

export async function runRecapture(options: RecaptureCommandOptions, print: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<RecaptureSlotsResult> {
  const parsed = parseOptions('recapture', recaptureOptionsSchema, options);
  const target = recaptureTarget(await loadConfigFile(parsed.config));
  const admin = await ClusterAdmin.connect(parsed.redis);
  try {
    return await recaptureSlots(admin, target, parsed.slots, print);
  } finally {
    await admin.close();
  }
}

export const recaptureCommand = new Command('recapture')
  .description("on a Redis Cluster: captures the current state of every mapped hash of the given slots again (after a resharding's window)")
  .option('--slots <list>', 'slots and ranges, e.g. 5061 or 0-99,7000 (required)')
  .option('--redis <url>', `any node of the cluster (default: $REDIS_URL or ${DEFAULT_REDIS_URL})`)
  .option('--config <file>', 'write-behind config file (it names the library and the writers)', DEFAULT_CONFIG_PATH)
  .action(async (options: RecaptureCommandOptions) => {
    await runRecapture(options);
  });
