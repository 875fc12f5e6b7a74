/**
 * `writebehind dlq list|replay|purge --writer NAME [--count N] [--config FILE]`: the dead-letter stream of a
 * writer the config names (any other name is refused, with the known ones: a typo must not look like "no
 * dead letters"); of a writer with `partitions: N`, the dead-letter streams of all its capture logs, and on a
 * Redis Cluster those of its slot logs on every shard, merged in id (time) order.
 * - list: the rejected records with their reasons: `<id>  <stage> (<event>)  <key>  <reason>`, the event (the
 *   keyspace event, or `backfill`/`recapture`) for a capture-stage letter;
 * - replay: makes MySQL reflect the current Redis state of each write-stage letter's key: re-captures the key
 *   through the library as verify --repair does (its image, or a delete when gone), into the log a write to it
 *   would use, and removes its letters; run it after fixing the table or the data. Never the letter's own row
 *   image: it is of the time it failed, and would overwrite a newer row of the key, or delete one re-created
 *   since (../actions/dlq-replay.ts). Left in place: capture-stage letters (rewrite the hash), keys written with
 *   `#` `+`/`-` since (kept apart on purpose), gone keys of an `onExpire: keep` writer.
 * - purge: deletes dead letters (the oldest --count, or all).
 * Runs ../actions/dlq.ts.
 */
import { Command } from 'commander';
import type { DlqOptions } from '../actions/dlq.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_REDIS_URL } from './defaults.js';

export const dlqCommand = new Command('dlq')
  .description("inspect, replay or purge a writer's dead letters")
  .argument('<action>', "list | replay (re-captures each letter's key as it is now, as verify --repair does, so MySQL gets the key's current state, never the letter's old image; leaves capture-stage letters, and keys written with # + or # - since) | purge")
  // Not commander's requiredOption: its error exits 1; zod's missing --writer is a bad option (exit 2).
  .option('--writer <name>', 'writer name, as the config names it (required)')
  .option('--count <n>', 'at most this many (default: list 100, replay 1000, purge all)')
  .option('--redis <url>', `Redis running the library (default: $REDIS_URL or ${DEFAULT_REDIS_URL})`)
  .option('--config <file>', 'write-behind config file (it names the writers)', DEFAULT_CONFIG_PATH)
  .action(async (action: string, options: Omit<DlqOptions, 'action'>) => {
    const { runDlq } = await import('../actions/dlq.js');
    await runDlq({ ...options, action: action as DlqOptions['action'] });
  });
