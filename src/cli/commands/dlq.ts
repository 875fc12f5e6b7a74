/**
 * `writebehind dlq list|replay|purge --writer NAME [--count N] [--config FILE]`: the dead-letter stream of a
 * writer the config names (any other name is refused, with the known ones: a typo must not look like "no
 * dead letters"); of a writer with `partitions: N`, the dead-letter streams of all its capture logs, and on a
 * Redis Cluster those of its slot logs on every shard, merged in id (time) order.
 * - list: the rejected records with their reasons: `<id>  <stage> (<event>)  <key>  <reason>`, the event (the
 *   keyspace event, or `backfill`/`recapture`) for a capture-stage letter;
 * - replay: re-captures write-stage dead letters (XADD of the original record fields into the capture stream, of
 *   a partitioned writer the key's partition's, so the library batches them again) and removes them; run it after fixing the table or the data. A replayed
 *   record carries the row image of its time: it overwrites a newer row of the same key, so replay before
 *   the key changes again, or fix the hash instead. Capture-stage letters have no row image: rewrite the hash.
 * - purge: deletes dead letters (the oldest --count, or all).
 * Runs ../actions/dlq.ts.
 */
import { Command } from 'commander';
import type { DlqOptions } from '../actions/dlq.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_REDIS_URL } from './defaults.js';

export const dlqCommand = new Command('dlq')
  .description("inspect, replay or purge a writer's dead letters")
  .argument('<action>', 'list | replay (write-stage letters: their row image of the time they failed, which overwrites a newer row of the key; capture-stage ones: rewrite the hash) | purge')
  // Not commander's requiredOption: its error exits 1; zod's missing --writer is a bad option (exit 2).
  .option('--writer <name>', 'writer name, as the config names it (required)')
  .option('--count <n>', 'at most this many (default: list 100, replay 1000, purge all)')
  .option('--redis <url>', `Redis running the library (default: $REDIS_URL or ${DEFAULT_REDIS_URL})`)
  .option('--config <file>', 'write-behind config file (it names the writers)', DEFAULT_CONFIG_PATH)
  .action(async (action: string, options: Omit<DlqOptions, 'action'>) => {
    const { runDlq } = await import('../actions/dlq.js');
    await runDlq({ ...options, action: action as DlqOptions['action'] });
  });
