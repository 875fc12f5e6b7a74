/**
 * `writebehind reshard --from NODE --to NODE (--slots LIST | --count N) [--redis URL] [--config FILE]`: moves
 * slots between two primaries of a Redis Cluster one at a time, each in one MIGRATE (its capture log moves
 * with its hashes), and re-captures each moved slot's mapped hashes (src/reshard/reshard.ts).
 * Runs ../actions/reshard.ts.
 */
import { Command } from 'commander';
import * as z from 'zod';
import { DEFAULT_CONFIG_PATH } from '../../shared/config-file.js';
import { slotListSchema } from './slot-options.js';
import { DEFAULT_REDIS_URL, redisUrlSchema } from './url-options.js';

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

export const reshardCommand = new Command('reshard')
  .description('on a Redis Cluster: moves slots between two primaries, each in one MIGRATE with its capture log, then re-captures its hashes')
  .option('--from <node>', 'source primary: node id or host:port as the cluster announces it (required)')
  .option('--to <node>', 'destination primary: node id or host:port (required)')
  .option('--slots <list>', 'the slots to move, e.g. 5061 or 0-99,7000 (or --count)')
  .option('--count <n>', "this many of the source's slots, lowest first (or --slots)")
  .option('--migrate-timeout-ms <ms>', 'MIGRATE timeout: longest idle time of one slot transfer', '60000')
  .option('--redis <url>', `any node of the cluster (default: $REDIS_URL or ${DEFAULT_REDIS_URL})`)
  .option('--config <file>', 'write-behind config file (it names the library and the writers)', DEFAULT_CONFIG_PATH)
  .action(async (options: ReshardCommandOptions) => {
    const { runReshard } = await import('../actions/reshard.js');
    await runReshard(options);
  });
