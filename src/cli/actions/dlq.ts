/** What `writebehind dlq` runs (../commands/dlq.ts defines it). */
import * as z from 'zod';
import { loadConfigFile } from '../../shared/config-file.js';
import { ConfigError } from '../../shared/errors.js';
import { CLUSTER_SLOTS, keySlot } from '../../shared/key-slot.js';
import { captureLogsOf, partitionKeys, partitionOfKey, writerKeys, type StreamKeys } from '../../shared/keys.js';
import { compareStreamIds } from '../../shared/stream-id.js';
import { DeadLetterField, RecordField } from '../../shared/protocol.js';
import { ClusterStreamClient, isRedisCluster } from '../../worker/redis/cluster-stream-client.js';
import { RedisStreamClient } from '../../worker/redis/redis-stream-client.js';
import { slotDeadLetterLogsOf } from '../../worker/slot-logs.js';
import { entryText, type StreamEntry } from '../../worker/redis/stream-entry.js';
import { parseOptions } from '../preflights/parse-options.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_REDIS_URL } from '../commands/defaults.js';
import { redisUrlSchema } from './url-options.js';
import { writerTarget as targetOf, type WriterTarget } from '../../reconcile/writer-target.js';
import { leftClauses, recaptureCurrentState, type LeftReason } from './dlq-replay.js';

export const dlqOptionsSchema = z.object({
  action: z.enum(['list', 'replay', 'purge'], { error: (issue) => `must be list, replay or purge, not '${String(issue.input)}'` }),
  writer: z.string({ error: 'is required' }).regex(/^[A-Za-z0-9_]+$/, 'must be a writer name ([A-Za-z0-9_]+)'),
  count: z.coerce.number().int().min(1).max(1_000_000).optional(),
  redis: redisUrlSchema.default(() => process.env['REDIS_URL'] ?? DEFAULT_REDIS_URL),
  /** The config that names the writers. */
  config: z.string().min(1).default(DEFAULT_CONFIG_PATH),
});

export type DlqOptions = z.input<typeof dlqOptionsSchema>;

export interface DeadLetterSummary {
  id: string;
  stage: string;
  /** What met the key: a keyspace event (`hset`, `del`, …) or the tool (`backfill`, `recapture`); null for the write stage. */
  event: string | null;
  reason: string;
  key: string | null;
  sourceId: string | null;
  at: string | null;
}

export interface DlqResult {
  /** list: the letters shown; replay: those removed because their key's current state was re-captured; purge: none. */
  letters: DeadLetterSummary[];
  /** Entries removed from the dead-letter stream. */
  removed: number;
  /** replay: letters left in place (capture stage, no key, or a key not to re-capture: dlq-replay.ts). */
  skipped: number;
}

export async function runDlq(options: DlqOptions, print: (text: string) => void = (text) => process.stdout.write(`${text}\n`)): Promise<DlqResult> {
  const parsed = parseOptions('dlq', dlqOptionsSchema, options, { action: '<action>' });
  const config = await loadConfigFile(parsed.config);
  const writers = config.writers;
  const writer = writers.find((w) => w.name === parsed.writer);
  if (writer === undefined) {
    throw new ConfigError(`unknown writer '${parsed.writer}': ${parsed.config} names ${writers.map((w) => w.name).join(', ')}`, { context: { suggestion: 'pass --writer with one of those, or --config with the config the library was deployed with' } });
  }
  const partitions = writer.partitions ?? 1;
  // On a Redis Cluster the dead letters are in a log per slot, on every shard (docs/scale-out.md).
  const client = (await isRedisCluster(parsed.redis)) ? await ClusterStreamClient.connectCluster(parsed.redis) : await RedisStreamClient.connect(parsed.redis, { reconnect: false });
  try {
    const cluster = client instanceof ClusterStreamClient;
    const logs = cluster ? [writerKeys(writer.name), ...(await slotDeadLetterLogsOf(client, writer.name))] : captureLogsOf(writer.name, partitions);
    const logOfKey = (key: string | null): StreamKeys | null => {
      if (key === null) return null;
      if (cluster) return partitionKeys(writer.name, keySlot(key), CLUSTER_SLOTS);
      return partitions === 1 ? null : partitionKeys(writer.name, partitionOfKey(key, partitions), partitions);
    };
    switch (parsed.action) {
      case 'list': {
        const letters = (await oldestLetters(client, logs, parsed.count ?? 100)).map(({ entry }) => summarize(entry));
        for (const l of letters) print(`${l.id}  ${l.stage}${l.event === null ? '' : ` (${l.event})`}  ${l.key ?? '-'}  ${l.reason}`);
        let total = 0;
        for (const log of logs) total += await client.length(log.deadLetters);
        print(`${letters.length} of ${total} dead letter(s) of ${parsed.writer}`);
        return { letters, removed: 0, skipped: 0 };
      }
      case 'replay':
        return await replay(client, parsed.redis, targetOf(config, writer.name, parsed.config), logs, logOfKey, parsed.count ?? 1000, print);
      case 'purge': {
        let removed = 0;
        if (parsed.count === undefined) {
          for (const log of logs) {
            removed += await client.length(log.deadLetters);
            await client.deleteKey(log.deadLetters);
          }
        } else {
          for (const { log, entry } of await oldestLetters(client, logs, parsed.count)) removed += await client.deleteEntries(log.deadLetters, [entry.id]);
        }
        print(`purged ${removed} dead letter(s) of ${parsed.writer}`);
        return { letters: [], removed, skipped: 0 };
      }
    }
  } finally {
    await client.close();
  }
}

/** A dead letter and the capture log whose dead-letter stream holds it. */
interface Letter {
  readonly log: StreamKeys;
  readonly entry: StreamEntry;
}

/** The oldest `count` dead letters over the logs' dead-letter streams, in id (time) order. */
async function oldestLetters(client: RedisStreamClient, logs: readonly StreamKeys[], count: number): Promise<Letter[]> {
  const letters: Letter[] = [];
  for (const log of logs) for (const entry of await client.range(log.deadLetters, count)) letters.push({ log, entry });
  return letters.sort((a, b) => compareStreamIds(a.entry.id, b.entry.id)).slice(0, count);
}

/**
 * Re-captures the current state of each write-stage letter's key (./dlq-replay.ts says why not the letter's
 * image) and removes the letters of the keys re-captured. `logOfKey`: the log a capture of the key goes to (its
 * partition's, on a cluster its slot's), or null for the writer's own log; shown in the line printed.
 */
async function replay(client: RedisStreamClient, redisUrl: string, target: WriterTarget, logs: readonly StreamKeys[], logOfKey: (key: string | null) => StreamKeys | null, count: number, print: (text: string) => void): Promise<DlqResult> {
  const letters = await oldestLetters(client, logs, count);
  const left = new Map<LeftReason | 'capture' | 'no-key', number>();
  const leave = (why: LeftReason | 'capture' | 'no-key') => left.set(why, (left.get(why) ?? 0) + 1);
  const keys = new Set<string>();
  for (const { entry } of letters) {
    const letter = summarize(entry);
    if (letter.stage === 'write' && letter.key !== null) keys.add(letter.key);
  }
  const { recaptured, left: leftKeys } = await recaptureCurrentState(redisUrl, target, [...keys]);
  const replayed: DeadLetterSummary[] = [];
  const into = new Set<string>();
  let removed = 0;
  for (const { log, entry } of letters) {
    const letter = summarize(entry);
    if (letter.stage !== 'write') leave('capture');
    else if (letter.key === null) leave('no-key');
    else if (!recaptured.has(letter.key)) leave(leftKeys.get(letter.key)!);
    else {
      into.add((logOfKey(letter.key) ?? target.keys).changes);
      replayed.push(letter);
      removed += await client.deleteEntries(log.deadLetters, [entry.id]);
    }
  }
  const skipped = [...left.values()].reduce((sum, n) => sum + n, 0);
  print(`replayed ${recaptured.size} key(s) (their current state) into ${[...into].join(', ') || 'no stream'}, removed ${removed} dead letter(s)` + leftClauses(left));
  return { letters: replayed, removed, skipped };
}

function summarize(entry: StreamEntry): DeadLetterSummary {
  return {
    id: entry.id,
    stage: entryText(entry, DeadLetterField.stage) ?? '?',
    event: entryText(entry, DeadLetterField.event) ?? null,
    reason: entryText(entry, DeadLetterField.reason) ?? '',
    key: entryText(entry, RecordField.key) ?? null,
    sourceId: entryText(entry, DeadLetterField.sourceId) ?? null,
    at: entryText(entry, DeadLetterField.at) ?? null,
  };
}
