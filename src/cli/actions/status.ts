/** What `writebehind status` runs (../commands/status.ts defines it). */
import * as z from 'zod';
import { loadConfigFile } from '../../shared/config-file.js';
import { WriteBehindError, errorMessage } from '../../shared/errors.js';
import { redactUrl } from '../../shared/redact-url.js';
import { LibraryFunction } from '../../shared/protocol.js';
import { VERSION } from '../../shared/version.js';
import { writerKeys } from '../../shared/keys.js';
import { formatReconcile, parseBackfillState, parseVerifyState, type BackfillState, type VerifyState } from '../../reconcile/reconcile-state.js';
import { readCaptureFailures, type CaptureFailures } from '../../worker/capture-failures.js';
import { listedMismatches } from '../../worker/deployed-config.js';
import { RedisStreamClient } from '../../worker/redis/redis-stream-client.js';
import { readLogsStatus, readWriterStatus, type WriterStatus } from '../../worker/writer-status.js';
import { ClusterStreamClient, isRedisCluster } from '../../worker/redis/cluster-stream-client.js';
import { slotLogsOf } from '../../worker/slot-logs.js';
import { ClusterAdmin } from '../../reshard/cluster-admin.js';
import { slotMigrations, type SlotMigration } from '../../reshard/slot-migrations.js';
import { parseOptions } from '../preflights/parse-options.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_REDIS_URL } from '../commands/defaults.js';
import { redisUrlSchema } from './url-options.js';

export const statusOptionsSchema = z.object({
  redis: redisUrlSchema.default(() => process.env['REDIS_URL'] ?? DEFAULT_REDIS_URL),
  config: z.string().min(1).default(DEFAULT_CONFIG_PATH),
  json: z.boolean().default(false),
});

export type StatusOptions = z.input<typeof statusOptionsSchema>;

export interface WriterReport extends WriterStatus {
  /**
   * Captures of this writer that failed inside Redis since the library was loaded (TFUNCTION LIST `num_failed`
   * of its trigger): those writes were not replicated. Null when the library does not answer.
   */
  readonly failedCaptures: number | null;
  /** The trigger's `last_error` (a timeout names no key; the dead-letter stream has the key otherwise). */
  readonly lastCaptureError: string | null;
  /** The last `writebehind backfill` (running, interrupted or done) and the last `writebehind verify`, if any. */
  readonly lastBackfill: BackfillState | null;
  readonly lastVerify: VerifyState | null;
  /**
   * How the deployed library captures this writer otherwise than the config status was given (a writer it
   * lacks, another table, prefix, key, mappings, …), as the worker's start-up check names it; empty when they
   * agree, or when the library is not deployed or shows no config to compare.
   */
  readonly deployedConfigMismatches: readonly string[];
}

export interface StatusReport {
  library: string;
  /** The Redis status looked at (password redacted). */
  redis: string;
  /** Version the deployed library reports; null when it is not deployed (or does not answer). */
  libraryVersion: string | null;
  /** Why the library did not report its version (`Unknown library …`, an unknown TFCALL, a timeout); null when it did. */
  libraryError: string | null;
  cliVersion: string;
  writers: WriterReport[];
  /**
   * On a cluster, slots MIGRATING or IMPORTING on some primary (a move in progress, or left half done); null
   * when some primary could not be asked (`slotMigrationsError` says why).
   */
  slotMigrations: SlotMigration[] | null;
  slotMigrationsError?: string;
}

export async function runStatus(options: StatusOptions, print: (text: string) => void = (text) => process.stdout.write(`${text}\n`)): Promise<StatusReport> {
  const parsed = parseOptions('status', statusOptionsSchema, options);
  const config = await loadConfigFile(parsed.config);
  // On a Redis Cluster a writer's records are in a log per slot, on every shard (docs/scale-out.md).
  const cluster = await isRedisCluster(parsed.redis);
  const client = cluster ? await ClusterStreamClient.connectCluster(parsed.redis) : await RedisStreamClient.connect(parsed.redis, { reconnect: false });
  try {
    let libraryVersion: string | null = null;
    let libraryError: string | null = null;
    try {
      libraryVersion = await client.callFunction(config.name, LibraryFunction.version, [], []);
    } catch (error) {
      libraryError = errorMessage(error);
    }
    const names = config.writers.map((writer) => writer.name);
    const failures = await readCaptureFailures(client.libraryListings(), config.name, names).catch((): CaptureFailures[] => []);
    const mismatches = libraryVersion === null ? new Map<string, string[]>() : listedMismatches(config, await Promise.all(client.libraryListings().map((listing) => listing(config.name).catch(() => null))));
    const writers: WriterReport[] = [];
    for (const { name, partitions } of config.writers) {
      const failed = failures.find((f) => f.writer === name);
      const keys = writerKeys(name);
      const lastBackfill = parseBackfillState(await client.hashGetAll(keys.backfill));
      const lastVerify = parseVerifyState(await client.hashGetAll(keys.verify));
      const status = client instanceof ClusterStreamClient ? await readLogsStatus(client, name, [keys, ...(await slotLogsOf(client, name))]) : await readWriterStatus(client, name, partitions);
      // Not deployed: no trigger counts anything, and a 0 would read as "none failed".
      writers.push({ ...status, failedCaptures: libraryVersion === null ? null : (failed?.failed ?? null), lastCaptureError: failed?.lastError ?? null, lastBackfill, lastVerify, deployedConfigMismatches: mismatches.get(name) ?? [] });
    }
    const migrations = cluster ? await readSlotMigrations(parsed.redis) : { slotMigrations: [] };
    const report: StatusReport = { library: config.name, redis: redactUrl(parsed.redis), libraryVersion, libraryError, cliVersion: VERSION, writers, ...migrations };
    print(parsed.json ? JSON.stringify(report, null, 2) : formatReport(report));
    return report;
  } catch (error) {
    throw new Error(`status: ${errorMessage(error)}`, { cause: error });
  } finally {
    await client.close();
  }
}

/**
 * The error `writebehind status` exits 1 with once it has printed its report, when the library is not deployed on
 * the Redis it looked at (or does not answer there): nothing is captured, whatever the figures say, and a
 * monitoring script that reads only the exit code must see it. Null when the library answered.
 */
export function notDeployedError(report: StatusReport): WriteBehindError | null {
  if (report.libraryVersion !== null) return null;
  return new WriteBehindError('NOT_DEPLOYED', `library ${report.library} is not deployed on ${report.redis} (or does not answer there): nothing is captured`, {
    ...(report.libraryError === null ? {} : { cause: new Error(report.libraryError) }),
    context: { suggestion: 'writebehind deploy with this config, or point --redis/--config at the Redis and library meant' },
  });
}

/** Best effort: a primary that does not answer (a failover under way) must not hide the writers' status. */
async function readSlotMigrations(url: string): Promise<Pick<StatusReport, 'slotMigrations' | 'slotMigrationsError'>> {
  let admin: ClusterAdmin | undefined;
  try {
    admin = await ClusterAdmin.connect(url);
    return { slotMigrations: await slotMigrations(admin) };
  } catch (error) {
    return { slotMigrations: null, slotMigrationsError: errorMessage(error) };
  } finally {
    await admin?.close();
  }
}

function formatReport(report: StatusReport): string {
  const lines: string[] = [];
  if (report.libraryVersion === null) lines.push(`library ${report.library}: NOT DEPLOYED on ${report.redis} (writebehind deploy)${report.libraryError === null ? '' : `: ${report.libraryError}`}`);
  else if (report.libraryVersion !== report.cliVersion) lines.push(`library ${report.library} ${report.libraryVersion} (CLI is ${report.cliVersion}: redeploy to match)`);
  else lines.push(`library ${report.library} ${report.libraryVersion}`);
  for (const w of report.writers) {
    lines.push(
      `${w.writer}: backlog ${w.backlog} record(s), ${w.queuedBatches} batch(es) queued (${w.pendingBatches} with a worker), oldest pending ${formatAge(w.oldestPendingAgeMs)}; ` +
        `captured ${w.captured}, committed rows ${w.committedRows}${w.partitions === null ? ` (through ${w.committed ?? 'nothing yet'})` : ` in ${w.partitions.length - 1} partitions or slot logs (and the unpartitioned stream, listed first)`}, dead letters ${w.deadLetters} (${w.deadLettered} ever)` +
        formatCaptureFailures(w) +
        (w.lastError === null ? '' : `; last error${w.lastErrorAt === null ? '' : ` at ${new Date(Number(w.lastErrorAt)).toISOString()}`}: ${w.lastError}`),
    );
    // Many logs (a cluster's per slot): only those with something left.
    const logs = (w.partitions ?? []).filter((log) => (w.partitions ?? []).length <= 20 || log.backlog > 0 || log.queuedBatches > 0 || log.deadLetters > 0);
    for (const log of logs) {
      lines.push(`  ${log.stream}: backlog ${log.backlog}, ${log.queuedBatches} batch(es) queued (${log.pendingBatches} with a worker), oldest pending ${formatAge(log.oldestPendingAgeMs)}; committed rows ${log.committedRows} (through ${log.committed ?? 'nothing yet'}), dead letters ${log.deadLetters}`);
    }
    if (w.deployedConfigMismatches.length > 0) lines.push(`WARNING: ${w.writer} does not match the deployed library: ${w.deployedConfigMismatches.join('; ')} (the worker refuses this config: deploy it, or read status with the deployed one)`);
    if (w.lastBackfill !== null || w.lastVerify !== null) lines.push(`${w.writer}: ${formatReconcile(w.lastBackfill, w.lastVerify)}`);
  }
  if (report.slotMigrations === null) lines.push(`slots in migration: unknown (${report.slotMigrationsError ?? 'no answer'})`);
  for (const m of report.slotMigrations ?? []) {
    lines.push(`WARNING: slot ${m.slot} is ${m.state.toUpperCase()} on ${m.node} (${m.state === 'migrating' ? 'to' : 'from'} ${m.peer}): a slot move is under way or was left half done, and a write to it can go uncaptured until it completes; then run writebehind recapture --slots ${m.slot}`);
  }
  return lines.join('\n');
}

function formatCaptureFailures(w: WriterReport): string {
  if (w.failedCaptures === null) return '; failed captures unknown (library not answering)';
  if (w.failedCaptures === 0) return '';
  return `; FAILED CAPTURES ${w.failedCaptures} (not replicated; re-write those keys): ${w.lastCaptureError ?? ''}`;
}

function formatAge(ms: number): string {
  if (ms === 0) return '-';
  return ms < 10_000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}
