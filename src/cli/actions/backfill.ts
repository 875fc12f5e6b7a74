/** What `writebehind backfill` runs (../commands/backfill.ts defines it). */
import { loadConfigFile } from '../../shared/config-file.js';
import { backfill, type BackfillResult } from '../../reconcile/backfill.js';
import { connectReconcileRedis } from '../../reconcile/connect-reconcile-redis.js';
import { writerTarget } from '../../reconcile/writer-target.js';
import { parseOptions } from '../preflights/parse-options.js';
import { backfillOptionsSchema, type BackfillCommandOptions } from '../commands/backfill.js';

/** Runs a backfill to its end, or until `signal` aborts it (the cursor is stored either way). */
export async function runBackfill(options: BackfillCommandOptions, signal?: AbortSignal, print: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<BackfillResult> {
  const parsed = parseOptions('backfill', backfillOptionsSchema, options);
  const target = writerTarget(await loadConfigFile(parsed.config), parsed.writer, parsed.config);
  const redis = await connectReconcileRedis(parsed.redis);
  try {
    return await backfill(redis, { target, match: parsed.match, restart: parsed.restart, print, ...(parsed.rate === undefined ? {} : { rate: parsed.rate }), ...(signal === undefined ? {} : { signal }) });
  } finally {
    await redis.close();
  }
}
