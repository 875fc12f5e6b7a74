/**
 * One round of the campaign: a fresh pipeline (redis-server with AOF, runtime, library, one worker), the
 * load running while a fault is injected, then the drain and the verdict. A fault sees the round's
 * environment and may replace the worker, restart the runtime, or write inputs of its own.
 */
import type { RedisClientType } from 'redis';
import type { BenchDatabase } from '../support/bench-database.js';
import type { CliProcess } from '../support/cli-process.js';
import { startPipeline, type Pipeline } from '../support/pipeline.js';
import { startProgress } from '../support/progress.js';
import { lastLogMessage } from '../support/drain.js';
import { waitFor } from '../support/wait.js';
import { ChaosLoad } from './chaos-load.js';
import { chaosConfig, chaosKeys, resetChaosTables } from './chaos-schema.js';
import { verifyRound } from './chaos-verify.js';
import { RUNTIME_UNCLEAN_STOPS_KEY, uncleanStopsRepairedKey } from '../../src/shared/keys.js';

/** How long a dead worker's batch waits before another consumer reclaims it (the default is 30 s). */
export const CHAOS_CLAIM_MIN_IDLE_MS = 2000;
const DRAIN_TIMEOUT_MS = 90_000;

export interface RoundEnvironment {
  readonly db: BenchDatabase;
  readonly pipeline: Pipeline;
  /** The worker currently running; a fault that kills it must start another and put it here. */
  worker: CliProcess;
  /** A client of the runtime that fails fast while it is down. */
  readonly client: RedisClientType;
  /** A client of the redis-server itself (must be reconnected by faults that restart it: it reconnects alone). */
  readonly direct: RedisClientType;
  readonly seconds: number;
  /** Ids the generic verification must skip (they are judged by the fault itself). */
  readonly excluded: Set<number>;
  /** Changes written by the fault itself, added to the round's count. */
  extraChanges: number;
  startWorker(consumer: string): CliProcess;
}

export interface FaultOutcome {
  /** What was injected, e.g. "5 SIGKILLs" or "412 connections killed". */
  readonly injected: string;
  /** Fault-specific checks that failed; empty when all held. */
  readonly failures: string[];
  readonly notes: string[];
}

export interface Fault {
  readonly name: string;
  /** Runs while the load runs, for about `env.seconds`. */
  inject(env: RoundEnvironment): Promise<FaultOutcome>;
  /** Checks after the drain (dead letters, acknowledgements...). */
  check?(env: RoundEnvironment): Promise<string[]>;
}

export interface RoundResult {
  readonly fault: string;
  readonly injected: string;
  readonly survived: boolean;
  readonly changes: number;
  readonly lost: number;
  /** Changes whose write got no reply (the server died under it) and whose capture was lost with it. */
  readonly lostUnacknowledged: number;
  readonly appliedTwice: number;
  readonly notes: string[];
}

export async function runRound(fault: Fault, db: BenchDatabase, options: { seconds: number; rate: number; keys: number; exactlyOnce: boolean }): Promise<RoundResult> {
  const progress = startProgress(`chaos ${fault.name}`, 'changes');
  await resetChaosTables(db);
  const config = chaosConfig({ exactlyOnce: options.exactlyOnce });
  const pipeline = await startPipeline({ config, mysqlUrl: db.url, appendonly: true });
  try {
    const startWorker = (consumer: string) => pipeline.startWorker({ consumer, claimMinIdleMs: CHAOS_CLAIM_MIN_IDLE_MS });
    const env: RoundEnvironment = {
      db,
      pipeline,
      worker: startWorker('chaos-1'),
      client: await pipeline.connect({ failFast: true }),
      direct: await pipeline.connectDirect(),
      seconds: options.seconds,
      excluded: new Set(),
      extraChanges: 0,
      startWorker,
    };
    const load = new ChaosLoad(env.client, options.keys, options.rate);
    load.start();
    const ticker = setInterval(() => progress.update(load.counts.acknowledged), 2000);
    let outcome: FaultOutcome;
    try {
      outcome = await fault.inject(env);
    } finally {
      clearInterval(ticker);
      await load.stop();
    }
    progress.note(`load done: ${load.counts.acknowledged} acknowledged, ${load.counts.failed} failed while faults were on; draining`);
    const failures = [...outcome.failures];
    if (!env.worker.isRunning()) env.worker = startWorker('chaos-final');
    let drained = true;
    try {
      // A runtime killed mid-write counts an unclean stop, and the worker re-captures what it may have left
      // uncaptured (docs/runtime.md#limits): the round is judged once that repair is done too.
      const repairedKey = uncleanStopsRepairedKey(config.name);
      const count = async (key: string) => Number((await env.direct.get(key)) ?? 0);
      await waitFor('the repair after unclean runtime stops', async () => (await count(RUNTIME_UNCLEAN_STOPS_KEY)) <= (await count(repairedKey)), DRAIN_TIMEOUT_MS, 200);
      await waitFor('the capture stream to drain', async () => (await env.direct.xLen(chaosKeys.changes)) === 0, DRAIN_TIMEOUT_MS, 200);
    } catch (error) {
      drained = false;
      const meta = await env.direct.hGetAll(chaosKeys.meta);
      failures.push(`${error instanceof Error ? error.message : String(error)} (${await env.direct.xLen(chaosKeys.changes)} records left; last_error: ${meta['last_error'] ?? 'none'}; worker: ${lastLogMessage(env.worker.tail())})`);
    }
    if (fault.check !== undefined) failures.push(...(await fault.check(env)));
    const verdict = await verifyRound(env.direct, db, load.outcomes, env.excluded);
    if (!env.worker.isRunning()) failures.push(`the worker exited: ${lastLogMessage(env.worker.tail())}`);
    return {
      fault: fault.name,
      injected: outcome.injected,
      survived: drained && failures.length === 0,
      changes: load.counts.acknowledged + env.extraChanges,
      lost: verdict.lost,
      lostUnacknowledged: verdict.lostUnacknowledged,
      appliedTwice: verdict.appliedTwice,
      notes: [...outcome.notes, ...failures, ...verdict.examples, `${verdict.keysCompared} keys compared, ${load.counts.failed} writes refused while down`],
    };
  } finally {
    await pipeline.close();
  }
}

