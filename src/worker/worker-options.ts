/**
 * Options of the Worker: a typed interface with documented defaults, checked once (messages name the field)
 * and frozen.
 */
import { hostname } from 'node:os';
import { silentLogger, type Logger } from '../shared/log.js';
import type { WriteBehindConfig } from '../shared/config.js';
import type { BatchWriter } from './batch-writer.js';
import type { ClusterClient, StreamClient } from './redis/stream-client.js';
import type { DeployedCaptureCheck } from './deployed-config-watch.js';
import type { WorkerMetrics } from './worker-metrics.js';

export interface WorkerOptions {
  /** The write-behind config (the same document the library was deployed with). */
  config: WriteBehindConfig;
  /**
   * Opens a Redis connection to the server that runs the library (the runtime's port or Redis Stack: TFCALL
   * must reach the library). The worker opens one per writer, since each blocks in XREADGROUP, and one more.
   */
  connectRedis: () => Promise<StreamClient>;
  /**
   * On a Redis Cluster: opens a cluster client (through any node). The writers' per-slot logs are then found
   * through the library's `ready` index on each primary and a sweep, and drained by short-lived loops on one
   * shared client (cluster-partitions.ts); `connectRedis` must then open cluster clients too (the loops of the
   * writers' unpartitioned logs block in XREADGROUP on their own).
   */
  connectCluster?: () => Promise<ClusterClient>;
  /** On a cluster: how often every slot's log of each writer is looked at (its length), besides `ready`. @defaultValue 30000 */
  clusterSweepMs?: number;
  /** On a cluster: most logs of one writer drained at once. @defaultValue 64 */
  clusterActiveLogs?: number;
  /** Where batches go. The caller owns it: the worker does not close it. */
  batchWriter: BatchWriter;
  /** Consumer name in the `workers` group; keep it stable across restarts so a restart replays its own batches. @defaultValue `<hostname>-<pid>` */
  consumer?: string;
  /** Descriptors another consumer held this long without progress are reclaimed (XAUTOCLAIM). @defaultValue 30000 */
  claimMinIdleMs?: number;
  /** How often to look for idle descriptors to reclaim. @defaultValue claimMinIdleMs / 3 */
  claimIntervalMs?: number;
  /** Longest wait in XREADGROUP (an idle loop also wakes to offer open records to `cut`, four times per batch.maxDelayMs). @defaultValue min(config.batch.maxDelayMs, 1000) */
  blockMs?: number;
  /** Descriptors read per XREADGROUP. @defaultValue 10 */
  readCount?: number;
  /**
   * Most capture records per XRANGE page (fewer when the records are large: record-reader.ts). One group's
   * records (5000 by default) in one round trip: the drain measured 30-50% faster than with pages of 1000,
   * the round trips through Redis being what the read-ahead waited for; redis-server spends ~1 ms on such a
   * page. @defaultValue 5000
   */
  rangePageSize?: number;
  /**
   * Most capture records one MySQL transaction covers when consecutive batches are waiting (a backlog): they
   * are written and committed together, so the per-transaction costs (round trips, the commit's flush, the
   * `committed` calls) are paid once for them. A single batch larger than this is still one transaction.
   * @defaultValue 5000
   */
  groupRecords?: number;
  /**
   * Most bytes of capture records one MySQL transaction covers, and one read-ahead holds: a group (or a single
   * batch) larger than this is read and written in parts of about this size, one transaction each, in order,
   * so the worker's memory does not grow with the values. A part always holds at least one record.
   * @defaultValue 8 MiB
   */
  groupBytes?: number;
  /** First retry delay after a retryable failure. @defaultValue 100 */
  retryInitialDelayMs?: number;
  /** Cap of the retry delay. @defaultValue 30000 */
  retryMaxDelayMs?: number;
  /**
   * Replicas that must hold a group's records before it is written to MySQL (replica-wait.ts): a write in the
   * log's slot, then `WAIT` on its shard; too few is retried with backoff, the group waiting in Redis. With it, a
   * failover to an acknowledging replica cannot lose a row MySQL has. 0: no wait. @defaultValue 0
   */
  waitReplicas?: number;
  /** The timeout of each `WAIT` (waitReplicas), ms. @defaultValue 1000 */
  waitReplicasTimeoutMs?: number;
  /** @defaultValue a silent logger */
  log?: Logger;
  /** Prometheus metrics to update; none by default. */
  metrics?: WorkerMetrics;
  /**
   * Asked before writing a batch the library stamped with another capture config than this worker's for its
   * writer (a redeploy): problems stop the writer (Worker.stopWriter) with the batch left pending. Without it
   * such a batch is written, as before stamps: the worker cannot tell an earlier deployment's backlog from a
   * later one's. startWorkerService passes its DeployedConfigWatch.
   */
  deployedCapture?: DeployedCaptureCheck;
}

export type ResolvedWorkerOptions = Readonly<Required<Omit<WorkerOptions, 'metrics' | 'connectCluster' | 'deployedCapture'>> & Pick<WorkerOptions, 'metrics' | 'connectCluster' | 'deployedCapture'>>;

export function resolveWorkerOptions(options: WorkerOptions): ResolvedWorkerOptions {
  const claimMinIdleMs = options.claimMinIdleMs ?? 30_000;
  const resolved = {
    consumer: `${hostname()}-${process.pid}`,
    claimIntervalMs: Math.max(50, Math.floor(claimMinIdleMs / 3)),
    blockMs: Math.min(options.config.batch.maxDelayMs, 1000),
    readCount: 10,
    rangePageSize: 5000,
    groupRecords: 5000,
    groupBytes: 8 * 1024 * 1024,
    retryInitialDelayMs: 100,
    retryMaxDelayMs: 30_000,
    clusterSweepMs: 30_000,
    clusterActiveLogs: 64,
    waitReplicas: 0,
    waitReplicasTimeoutMs: 1000,
    log: silentLogger,
    ...stripUndefined(options),
    claimMinIdleMs,
  };
  const positive = (name: keyof typeof resolved) => {
    const value = resolved[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  };
  for (const name of ['claimMinIdleMs', 'claimIntervalMs', 'blockMs', 'readCount', 'rangePageSize', 'groupRecords', 'groupBytes', 'retryInitialDelayMs', 'retryMaxDelayMs', 'clusterSweepMs', 'clusterActiveLogs'] as const) positive(name);
  if (!Number.isInteger(resolved.waitReplicas) || resolved.waitReplicas < 0) throw new RangeError(`waitReplicas must be a non-negative integer, got ${String(resolved.waitReplicas)}`);
  positive('waitReplicasTimeoutMs');
  if (resolved.retryMaxDelayMs < resolved.retryInitialDelayMs) throw new RangeError('retryMaxDelayMs must be at least retryInitialDelayMs');
  if (resolved.consumer === '' || /\s/.test(resolved.consumer)) throw new RangeError('consumer must be a non-empty name without spaces');
  return Object.freeze(resolved);
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
