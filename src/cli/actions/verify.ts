/** What `writebehind verify` runs (../commands/verify.ts defines it). */
import * as z from 'zod';
import { loadConfigFile } from '../../shared/config-file.js';
import { formatReport, type VerifyReport } from '../../reconcile/difference-report.js';
import { ReconcileMysql } from '../../reconcile/reconcile-mysql.js';
import { connectReconcileRedis } from '../../reconcile/connect-reconcile-redis.js';
import { verifyFields } from '../../reconcile/reconcile-state.js';
import { verify } from '../../reconcile/verify.js';
import { writerTarget } from '../../reconcile/writer-target.js';
import { parseOptions } from '../preflights/parse-options.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_MYSQL_URL, DEFAULT_REDIS_URL } from '../commands/defaults.js';
import { mysqlUrlSchema, redisUrlSchema } from './url-options.js';

export const verifyOptionsSchema = z.object({
  writer: z.string({ error: 'is required' }).regex(/^[A-Za-z0-9_]+$/, 'must be a writer name ([A-Za-z0-9_]+)'),
  /** Compare about this many hashes and rows instead of all. */
  sample: z.coerce.number().int().min(1).max(100_000_000).optional(),
  repair: z.boolean().default(false),
  json: z.boolean().default(false),
  /** Longest wait for the worker to commit the changes captured before a compared image was read. */
  waitMs: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  redis: redisUrlSchema.default(() => process.env['REDIS_URL'] ?? DEFAULT_REDIS_URL),
  mysql: mysqlUrlSchema.default(() => process.env['MYSQL_URL'] ?? DEFAULT_MYSQL_URL),
  config: z.string().min(1).default(DEFAULT_CONFIG_PATH),
});

export type VerifyCommandOptions = z.input<typeof verifyOptionsSchema>;

/** Runs verify, stores its figures in `wb:verify:{w}` and prints the report (text, or JSON on stdout). */
export async function runVerify(options: VerifyCommandOptions, print: (text: string) => void = (text) => process.stdout.write(`${text}\n`), progress: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<VerifyReport> {
  const parsed = parseOptions('verify', verifyOptionsSchema, options);
  const target = writerTarget(await loadConfigFile(parsed.config), parsed.writer, parsed.config);
  const redis = await connectReconcileRedis(parsed.redis);
  try {
    const mysql = await ReconcileMysql.connect(parsed.mysql);
    try {
      const report = await verify(redis, mysql, { target, repair: parsed.repair, waitMs: parsed.waitMs, print: progress, ...(parsed.sample === undefined ? {} : { sample: parsed.sample }) });
      await redis.writeState(target.keys.verify, verifyFields({ ...report, at: Date.now(), missing: report.missing.count, stale: report.stale.count, orphan: report.orphan.count }));
      print(parsed.json ? JSON.stringify(report, null, 2) : formatReport(report));
      return report;
    } finally {
      await mysql.close();
    }
  } finally {
    await redis.close();
  }
}
