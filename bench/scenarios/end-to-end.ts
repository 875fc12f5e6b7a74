/**
 * (d) END TO END: HSETs through the runtime at fixed rates, with one worker running, for a bounded time:
 * p50/p99 from the HSET to the row being visible in MySQL, and from the HSET to the acknowledgement
 * (`# =<uuid>`, then XREAD BLOCK on `{<key>}<uuid>`). About 100 writes a second are followed (LagProbe);
 * the others load the pipeline alike. Then a short search for the highest rate whose p99 lag stays under 1 s
 * while the generator keeps the rate.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClientType } from 'redis';
import type { Figure, Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';
import { benchConfig } from '../support/bench-config.js';
import { measureCommitLatency, type CommitLatency } from '../support/commit-baseline.js';
import { writeAtRate } from '../support/hash-load.js';
import { LagProbe, type LagSamples } from '../support/lag-probe.js';
import { personHashFields } from '../support/persons-table.js';
import { resetPersons } from '../support/persons-reset.js';
import { benchKeys, startPipeline } from '../support/pipeline.js';
import { startProgress } from '../support/progress.js';
import { percentile, sortNumbers, summarize } from '../support/stats.js';
import { waitForDrain } from '../support/drain.js';
import { SLOW_MS, WorkerGroups, type GroupSummary } from '../support/worker-groups.js';

export const FIXED_RATES = [1000, 2000, 5000] as const;
const SAMPLES_PER_SECOND = 100;
/** Unmeasured seconds at the first chosen rate before --e2e-rates runs. */
const WARM_UP_SECONDS = 10;
const LAG_LIMIT_MS = 1000;
/** A rate is sustained when the generator achieved this share of it and p99 lag stayed under the limit. */
const ACHIEVED_SHARE = 0.95;

interface RunOutcome {
  readonly rate: number;
  readonly achievedRate: number;
  readonly visibleP50: number;
  readonly visibleP99: number;
  readonly ackP50: number;
  readonly ackP99: number;
  /** The worker's committed groups in the run: p99 of their time, of their MySQL transactions' time, and how many took over SLOW_MS. */
  readonly groupP99: number;
  readonly transactionP99: number;
  readonly slowGroups: number;
  /** The baseline just before the run: the same rows/s committed by MariaDB alone, p99 and longest transaction. */
  readonly aloneP99: number;
  readonly aloneMax: number;
}

export const endToEndScenario: Scenario = {
  id: 'e2e',
  title: '(d) end to end through the runtime, one worker',
  async run({ scale, db }: ScenarioContext): Promise<ScenarioResult> {
    // Fixed rates run for 30 s as the issue asks (4 s in --quick); each step of the sustained-rate search, 10 s.
    const fixedSeconds = scale.quick ? 4 : 30;
    const searchSeconds = scale.quick ? 4 : 10;
    const baselineSeconds = scale.quick ? 2 : 5;
    await resetPersons(db);
    const pipeline = await startPipeline({ config: benchConfig(), mysqlUrl: db.url });
    // At debug level the worker reports each committed group's time: a run's p99 can be set beside its commits.
    const worker = pipeline.startWorker({ logLevel: 'debug' });
    const groups = new WorkerGroups(worker);
    const client = await pipeline.connect();
    const probe = await LagProbe.open(pipeline.runtimeUrl, db.url);
    let nextId = 1;
    const runAt = async (rate: number, seconds: number, label: string): Promise<RunOutcome> => {
      const progress = startProgress(label, 'HSET');
      progress.note(`${rate}/s for ${seconds} s`);
      progress.note(`MariaDB alone first: ${rate} rows/s for ${baselineSeconds} s`);
      const alone = await measureCommitLatency(db.url, rate, baselineSeconds);
      const followEvery = Math.max(1, Math.round(rate / SAMPLES_PER_SECOND));
      const base = nextId;
      nextId += Math.round(rate * seconds) + 1;
      const started = Date.now();
      const load = await writeAtRate(client, rate, seconds, (c, i) => writeOne(c, probe, base + i, i % followEvery === 0));
      const samples = await probe.collect(30_000);
      const left = startProgress(`${label}: backlog left`, 'records');
      await waitForDrain(client, benchKeys, worker, 120_000, (n) => left.update(n));
      if (!worker.isRunning()) throw new Error(`the worker exited:\n${worker.tail()}`);
      const outcome = summarizeRun(rate, load.achievedRate, samples, groups.between(started, Date.now()), alone);
      progress.note(
        `achieved ${Math.round(outcome.achievedRate)}/s; visible p50 ${outcome.visibleP50.toFixed(0)} ms p99 ${outcome.visibleP99.toFixed(0)} ms; ack p50 ${outcome.ackP50.toFixed(0)} ms p99 ${outcome.ackP99.toFixed(0)} ms; ` +
          `worker groups p99 ${outcome.groupP99.toFixed(0)} ms (MySQL ${outcome.transactionP99.toFixed(0)} ms), ${outcome.slowGroups} over ${SLOW_MS} ms; ` +
          `MariaDB alone p99 ${outcome.aloneP99.toFixed(0)} ms, longest ${outcome.aloneMax.toFixed(0)} ms`,
      );
      return outcome;
    };
    try {
      const figures: Figure[] = [];
      if (scale.e2eRates !== undefined) {
        // A fresh pipeline's first seconds stall (JIT, the first batches and statements): the full run's first
        // rate pays it (p99 in seconds at 1000/s); a chosen rate must not, or it measures the start-up.
        await runAt(scale.e2eRates[0]!, WARM_UP_SECONDS, 'e2e warm-up');
      }
      for (const rate of scale.e2eRates ?? FIXED_RATES) {
        const runs: RunOutcome[] = [];
        for (let rep = 1; rep <= scale.reps; rep++) runs.push(await runAt(rate, fixedSeconds, `e2e ${rate}/s rep ${rep}/${scale.reps}`));
        const fig = (id: string, label: string, pick: (r: RunOutcome) => number, unit = 'ms'): Figure => ({ id: `e2e.${rate}.${id}`, label: `${rate}/s: ${label}`, unit, summary: summarize(runs.map(pick)), origin: 'local-runtime' });
        figures.push(
          fig('achievedRate', 'HSET/s achieved', (r) => r.achievedRate, 'HSET/s'),
          fig('visibleP50', 'HSET → row visible p50', (r) => r.visibleP50),
          fig('visibleP99', 'HSET → row visible p99', (r) => r.visibleP99),
          fig('ackP50', 'HSET → ack p50', (r) => r.ackP50),
          fig('ackP99', 'HSET → ack p99', (r) => r.ackP99),
          fig('groupP99', "worker's committed groups p99", (r) => r.groupP99),
          fig('transactionP99', "worker's MySQL transactions p99", (r) => r.transactionP99),
          fig('slowGroups', `worker's groups over ${SLOW_MS} ms`, (r) => r.slowGroups, 'groups'),
          fig('aloneP99', 'baseline: MariaDB alone, same rows/s, transaction p99', (r) => r.aloneP99),
          fig('aloneMax', 'baseline: MariaDB alone, same rows/s, longest transaction', (r) => r.aloneMax),
        );
      }
      if (scale.e2eRates === undefined) {
        const best = await searchSustainedRate((rate, label) => runAt(rate, searchSeconds, label));
        figures.push({ id: 'e2e.maxSustainedRate', label: `highest rate tried with p99 visible < ${LAG_LIMIT_MS} ms`, unit: 'HSET/s', summary: summarize([best]), origin: 'local-runtime' });
      }
      return {
        id: this.id,
        title: this.title,
        figures,
        notes: [
          `baseline before each run: MariaDB alone commits the run's rows/s for ${baselineSeconds} s, a multi-row upsert every 25 ms (bench/support/commit-baseline.ts)`,
          `${fixedSeconds} s per run, ${scale.reps} runs per fixed rate (median of the runs' percentiles); about ${SAMPLES_PER_SECOND} writes/s followed; MySQL polled every 10 ms, so "visible" carries up to ~10 ms of polling error`,
          scale.e2eRates === undefined
            ? `sustained-rate search: one ${searchSeconds} s run per step, a step passes when the generator reached ${ACHIEVED_SHARE * 100}% of the rate and p99 visible < ${LAG_LIMIT_MS} ms; the figure is the highest passing step (a lower bound)`
            : `rates chosen with --e2e-rates, after ${WARM_UP_SECONDS} s unmeasured at the first; no sustained-rate search`,
          'load generator, runtime, redis-server, worker and MariaDB share the same 2 cores',
        ],
      };
    } finally {
      await probe.close();
      await worker.stop();
      await pipeline.close();
    }
  },
};

/** One HSET of a fresh key; followed writes carry `# =<uuid>` and are handed to the probe. */
function writeOne(client: RedisClientType, probe: LagProbe, id: number, follow: boolean): Promise<unknown> {
  const key = `person:${id}`;
  const fields = personHashFields(id);
  if (!follow) return client.hSet(key, fields);
  const uuid = randomUUID();
  const issuedAt = performance.now();
  const reply = client.hSet(key, { ...fields, '#': `=${uuid}` });
  probe.follow(key, String(id), uuid, issuedAt);
  return reply;
}

function summarizeRun(rate: number, achievedRate: number, samples: LagSamples, groups: GroupSummary, alone: CommitLatency): RunOutcome {
  const visible = sortNumbers(samples.visibleMs);
  const ack = sortNumbers(samples.ackMs);
  return {
    rate,
    achievedRate,
    visibleP50: percentile(visible, 50),
    visibleP99: percentile(visible, 99),
    ackP50: percentile(ack, 50),
    ackP99: percentile(ack, 99),
    groupP99: groups.p99Ms,
    transactionP99: groups.transactionP99Ms,
    slowGroups: groups.slow,
    aloneP99: alone.p99Ms,
    aloneMax: alone.maxMs,
  };
}

/** Lowest and highest rates the search tries. */
const SEARCH_FLOOR = 125;
const SEARCH_CEILING = 80_000;

/**
 * From 1000/s, doubles while steps pass (or halves while they fail) until the outcome flips, then tries the
 * midpoint once; returns the highest passing rate (0 when even the floor fails).
 */
async function searchSustainedRate(runAt: (rate: number, label: string) => Promise<RunOutcome>): Promise<number> {
  const passes = async (rate: number) => {
    const r = await runAt(rate, `e2e search ${rate}/s`);
    return r.visibleP99 < LAG_LIMIT_MS && r.achievedRate >= ACHIEVED_SHARE * r.rate;
  };
  let rate = 1000;
  const firstPassed = await passes(rate);
  let best = firstPassed ? rate : 0;
  let failed = firstPassed ? 0 : rate;
  for (;;) {
    const next = firstPassed ? rate * 2 : Math.floor(rate / 2);
    if (next > SEARCH_CEILING || next < SEARCH_FLOOR) break;
    rate = next;
    const ok = await passes(rate);
    if (ok) best = rate;
    else failed = rate;
    if (ok !== firstPassed) break;
  }
  if (best > 0 && failed > best) {
    const middle = Math.round((best + failed) / 2 / 25) * 25;
    if (await passes(middle)) best = middle;
  }
  return best;
}
