/** What `writebehind reshard` runs (../commands/reshard.ts defines it). */
import * as z from 'zod';
import { loadConfigFile } from '../../shared/config-file.js';
import { ClusterAdmin } from '../../reshard/cluster-admin.js';
import { recaptureTarget } from '../../reshard/recapture-target.js';
import { reshard, type ReshardResult } from '../../reshard/reshard.js';
import { parseOptions } from '../preflights/parse-options.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_REDIS_URL } from '../commands/defaults.js';
import { slotListSchema } from './slot-options.js';
import { redisUrlSchema } from './url-options.js';

const nodeSchema = z.string({ error: 'is required' }).regex(/^([0-9a-f]{40}|[^\s:]+:\d{1,5})$/, 'must be a node id (40 hex digits) or host:port as CLUSTER NODES lists it');

export const reshardOptionsSchema = z
  .object({
    from: nodeSchema,
    to: nodeSchema,
    slots: slotListSchema.optional(),
    count: z.coerce.number().int('must be a whole number of slots').min(1, 'must be at least 1').max(16_384).optional(),
    /** MIGRATE's timeout: the longest the transfer of one slot may stay idle. */
    migrateTimeoutMs: z.coerce.number().int().min(1).max(3_600_000).default(60_000),
    redis: redisUrlSchema.default(() => process.env['REDIS_URL'] ?? DEFAULT_REDIS_URL),
    config: z.string().min(1).default(DEFAULT_CONFIG_PATH),
  })
  .refine((options) => (options.slots === undefined) !== (options.count === undefined), { message: 'give exactly one of --slots and --count', path: ['slots'] });

export type ReshardCommandOptions = z.input<typeof reshardOptionsSchema>;

export async function runReshard(options: ReshardCommandOptions, print: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<ReshardResult> {
  const parsed = parseOptions('reshard', reshardOptionsSchema, options);
  const target = recaptureTarget(await loadConfigFile(parsed.config));
  const admin = await ClusterAdmin.connect(parsed.redis);
  try {
    return await reshard(admin, target, {
      from: parsed.from,
      to: parsed.to,
      ...(parsed.slots === undefined ? {} : { slots: parsed.slots }),
      ...(parsed.count === undefined ? {} : { count: parsed.count }),
      migrateTimeoutMs: parsed.migrateTimeoutMs,
      print,
    });
  } finally {
    await admin.close();
  }
}
