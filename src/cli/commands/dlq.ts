/**
 * `writebehind dlq list|replay|purge --writer NAME [--count N] [--config FILE]`: the dead-letter stream of a
 * writer the config names (any other name is refused, with the known ones: a typo must not look like "no
 * dead letters").
 * - list: the rejected records with their reasons;
 * - replay: re-captures write-stage dead letters (XADD of the original record fields into the capture stream, so
 *   the library batches them again) and removes them; run it after fixing the table or the data. A replayed
 *   record carries the row image of its time: it overwrites a newer row of the same key, so replay before
 *   the key changes again, or fix the hash instead. Capture-stage letters have no row image: rewrite the hash.
 * - purge: deletes dead letters (the oldest --count, or all).
 */
import { Command } from 'commander';
import * as z from 'zod';
import { DEFAULT_CONFIG_PATH, loadConfigFile } from '../../shared/config-file.js';
import { ConfigError } from '../../shared/errors.js';
import { writerKeys } from '../../shared/keys.js';
import { DeadLetterField, RecordField } from '../../shared/protocol.js';
import { RedisStreamClient } from '../../worker/redis/redis-stream-client.js';
import { entryText, type StreamEntry } from '../../worker/redis/stream-entry.js';
import { parseOptions } from '../preflights/parse-options.js';
import { DEFAULT_REDIS_URL } from './deploy.js';
import { redisUrlSchema } from './worker.js';

export const dlqOptionsSchema = z.object({
  action: z.enum(['list', 'replay', 'purge']),
  writer: z.string().regex(/^[A-Za-z0-9_]+$/, 'must be a writer name ([A-Za-z0-9_]+)'),
  count: z.coerce.number().int().min(1).max(1_000_000).optional(),
  redis: redisUrlSchema.default(() => process.env['REDIS_URL'] ?? DEFAULT_REDIS_URL),
  /** The config that names the writers. */
  config: z.string().min(1).default(DEFAULT_CONFIG_PATH),
});

export type DlqOptions = z.input<typeof dlqOptionsSchema>;

export interface DeadLetterSummary {
  id: string;
  stage: string;
  reason: string;
  key: string | null;
  sourceId: string | null;
  at: string | null;
}

export interface DlqResult {
  /** list: the letters shown; replay: those re-captured; purge: none. */
  letters: DeadLetterSummary[];
  /** Entries removed from the dead-letter stream. */
  removed: number;
  /** replay: letters left in place because they cannot be replayed (capture stage). */
  skipped: number;
}

export async function runDlq(options: DlqOptions, print: (text: string) => void = (text) => process.stdout.write(`${text}\n`)): Promise<DlqResult> {
  const parsed = parseOptions('dlq', dlqOptionsSchema, options);
  const writers = (await loadConfigFile(parsed.config)).writers.map((w) => w.name);
  if (!writers.includes(parsed.writer)) {
    throw new ConfigError(`unknown writer '${parsed.writer}': ${parsed.config} names ${writers.join(', ')}`, { context: { suggestion: 'pass --writer with one of those, or --config with the config the library was deployed with' } });
  }
  const keys = writerKeys(parsed.writer);
  const client = await RedisStreamClient.connect(parsed.redis, { reconnect: false });
  try {
    switch (parsed.action) {
      case 'list': {
        const letters = (await client.range(keys.deadLetters, parsed.count ?? 100)).map(summarize);
        for (const l of letters) print(`${l.id}  ${l.stage}  ${l.key ?? '-'}  ${l.reason}`);
        print(`${letters.length} of ${await client.length(keys.deadLetters)} dead letter(s) of ${parsed.writer}`);
        return { letters, removed: 0, skipped: 0 };
      }
      case 'replay':
        return await replay(client, keys, parsed.count ?? 1000, print);
      case 'purge': {
        let removed: number;
        if (parsed.count === undefined) {
          removed = await client.length(keys.deadLetters);
          await client.deleteKey(keys.deadLetters);
        } else {
          removed = await client.deleteEntries(keys.deadLetters, (await client.range(keys.deadLetters, parsed.count)).map((e) => e.id));
        }
        print(`purged ${removed} dead letter(s) of ${parsed.writer}`);
        return { letters: [], removed, skipped: 0 };
      }
    }
  } finally {
    await client.close();
  }
}

async function replay(client: RedisStreamClient, keys: ReturnType<typeof writerKeys>, count: number, print: (text: string) => void): Promise<DlqResult> {
  const entries = await client.range(keys.deadLetters, count);
  const replayed: DeadLetterSummary[] = [];
  const seen = new Set<string>();
  let removed = 0;
  let skipped = 0;
  for (const entry of entries) {
    const letter = summarize(entry);
    if (letter.stage !== 'write') {
      skipped += 1;
      continue;
    }
    // A batch retried after its dead letters were written records them again: replay each source record once.
    if (letter.sourceId === null || !seen.has(letter.sourceId)) {
      await client.append(keys.changes, entry.fields.filter(([name]) => !isDeadLetterField(name)));
      replayed.push(letter);
      if (letter.sourceId !== null) seen.add(letter.sourceId);
    }
    removed += await client.deleteEntries(keys.deadLetters, [entry.id]);
  }
  print(`replayed ${replayed.length} record(s) into ${keys.changes}, removed ${removed} dead letter(s)` + (skipped > 0 ? `; ${skipped} capture-stage letter(s) left (rewrite those hashes instead)` : ''));
  return { letters: replayed, removed, skipped };
}

const DEAD_LETTER_FIELDS: ReadonlySet<string> = new Set(Object.values(DeadLetterField));

function isDeadLetterField(name: string): boolean {
  return DEAD_LETTER_FIELDS.has(name);
}

function summarize(entry: StreamEntry): DeadLetterSummary {
  return {
    id: entry.id,
    stage: entryText(entry, DeadLetterField.stage) ?? '?',
    reason: entryText(entry, DeadLetterField.reason) ?? '',
    key: entryText(entry, RecordField.key) ?? null,
    sourceId: entryText(entry, DeadLetterField.sourceId) ?? null,
    at: entryText(entry, DeadLetterField.at) ?? null,
  };
}

export const dlqCommand = new Command('dlq')
  .description("inspect, replay or purge a writer's dead letters")
  .argument('<action>', 'list | replay | purge')
  .requiredOption('--writer <name>', 'writer name, as the config names it')
  .option('--count <n>', 'at most this many (default: list 100, replay 1000, purge all)')
  .option('--redis <url>', `Redis running the library (default: $REDIS_URL or ${DEFAULT_REDIS_URL})`)
  .option('--config <file>', 'write-behind config file (it names the writers)', DEFAULT_CONFIG_PATH)
  .action(async (action: string, options: Omit<DlqOptions, 'action'>) => {
    await runDlq({ ...options, action: action as DlqOptions['action'] });
  });
