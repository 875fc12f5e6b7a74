/** What `writebehind recapture` runs (../commands/recapture.ts defines it). */
import * as z from 'zod';
import { loadConfigFile } from '../../shared/config-file.js';
import { ClusterAdmin } from '../../reshard/cluster-admin.js';
import { recaptureSlots, type RecaptureSlotsResult } from '../../reshard/recapture-slots.js';
import { recaptureTarget } from '../../reshard/recapture-target.js';
import { parseOptions } from '../preflights/parse-options.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_REDIS_URL } from '../commands/defaults.js';
import { slotListSchema } from './slot-options.js';
import { redisUrlSchema } from './url-options.js';

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
