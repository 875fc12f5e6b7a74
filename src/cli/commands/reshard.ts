/**
 * `writebehind reshard --from NODE --to NODE (--slots LIST | --count N) [--redis URL] [--config FILE]`: moves
 * slots between two primaries of a Redis Cluster one at a time, each in one MIGRATE (its capture log moves
 * with its hashes), and re-captures each moved slot's mapped hashes (src/reshard/reshard.ts).
 * Runs ../actions/reshard.ts.
 */
import { Command } from 'commander';
import type { ReshardCommandOptions } from '../actions/reshard.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_REDIS_URL } from './defaults.js';

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
