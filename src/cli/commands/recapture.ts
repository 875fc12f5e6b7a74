/**
 * `writebehind recapture --slots LIST [--redis URL] [--config FILE]`: on a Redis Cluster, captures again the
 * current state of every mapped hash of the given slots, on each slot's owner (the library's `recapture`), so
 * a change whose capture failed while its slot migrated reaches MySQL (docs/scale-out.md, slot migration). Run
 * it after moving slots with `redis-cli --cluster reshard`; `writebehind reshard` does it for each slot it moves.
 * Runs ../actions/recapture.ts.
 */
import { Command } from 'commander';
import type { RecaptureCommandOptions } from '../actions/recapture.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_REDIS_URL } from './defaults.js';

export const recaptureCommand = new Command('recapture')
  .description("on a Redis Cluster: captures the current state of every mapped hash of the given slots again (after a resharding's window)")
  .option('--slots <list>', 'slots and ranges, e.g. 5061 or 0-99,7000 (required)')
  .option('--redis <url>', `any node of the cluster (default: $REDIS_URL or ${DEFAULT_REDIS_URL})`)
  .option('--config <file>', 'write-behind config file (it names the library and the writers)', DEFAULT_CONFIG_PATH)
  .action(async (options: RecaptureCommandOptions) => {
    const { runRecapture } = await import('../actions/recapture.js');
    await runRecapture(options);
  });
