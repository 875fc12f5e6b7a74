/** What `writebehind backfill` runs (../commands/backfill.ts defines it). */
import * as z from 'zod';
import { loadConfigFile } from '../../shared/config-file.js';
import { backfill, type BackfillResult } from '../../reconcile/backfill.js';
import { connectReconcileRedis } from '../../reconcile/connect-reconcile-redis.js';
import { WriteBehindError } from '../../shared/errors.js';
import { redactUrl } from '../../shared/redact-url.js';
import { writerTarget } from '../../reconcile/writer-target.js';
import { parseOptions } from '../preflights/parse-options.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_REDIS_URL } from '../commands/defaults.js';
import { redisUrlSchema } from './url-options.js';

export const backfillOptionsSchema = z.object({
  writer: z.string({ error: 'is required' }).regex(/^[A-Za-z0-9_]+$/, 'must be a writer name ([A-Za-z0-9_]+)'),
  /** Glob over the id part of the keys: `--match '2024*'` takes `person:2024*`. */
  match: z.string().min(1).max(1000).default('*'),
  /** Keys per second at most, so live writes keep their latency. */
  rate: z.coerce.number().int().min(1, 'must be at least 1 key/s').max(10_000_000).optional(),
  /** Start over instead of resuming a stored cursor. */
  restart: z.boolean().default(false),
  redis: redisUrlSchema.default(() => process.env['REDIS_URL'] ?? DEFAULT_REDIS_URL),
  config: z.string().min(1).default(DEFAULT_CONFIG_PATH),
});

export type BackfillCommandOptions = z.input<typeof backfillOptionsSchema>;

/** Runs a backfill to its end, or until `signal` aborts it (the cursor is stored either way). */
export async function runBackfill(options: BackfillCommandOptions, signal?: AbortSignal, print: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<BackfillResult> {
  const parsed = parseOptions('backfill', backfillOptionsSchema, options);
  const target = writerTarget(await loadConfigFile(parsed.config), parsed.writer, parsed.config);
  const redis = await connectReconcileRedis(parsed.redis, signal).catch((error: unknown) => {
    // A Ctrl-C or SIGTERM while Redis does not answer: nothing was captured yet, no cursor to keep.
    throw signal?.aborted === true ? new WriteBehindError('INTERRUPTED', `backfill interrupted while connecting to ${redactUrl(parsed.redis)}: nothing was captured`, { cause: error }) : error;
  });
  try {
    return await backfill(redis, { target, match: parsed.match, restart: parsed.restart, print, ...(parsed.rate === undefined ? {} : { rate: parsed.rate }), ...(signal === undefined ? {} : { signal }) });
  } finally {
    await redis.close();
  }
}

