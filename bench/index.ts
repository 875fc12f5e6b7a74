/**
 * `npm run bench`: runs every scenario on this machine's MariaDB (and, for the pipeline scenarios, on a
 * redis-server and the local runtime of its own), prints progress while it works, then the table, and writes
 * bench/results/results.json and results.md. A database of its own is created and dropped.
 */
import { parseBenchOptions } from './bench-options.js';
import type { Scenario, ScenarioResult } from './scenario.js';
import { createBenchDatabase } from './support/bench-database.js';
import { describeMachine } from './support/machine.js';
import { announce } from './support/progress.js';
import { ratioOf, renderMachine, renderTextTable, writeReport, type BenchReport, type Ratio } from './support/report.js';
import { anchorScenario } from './scenarios/anchor.js';
import { backfillScenario } from './scenarios/backfill.js';
import { captureReadScenario } from './scenarios/capture-read.js';
import { ceilingScenario } from './scenarios/ceiling.js';
import { dataPathScenario } from './scenarios/data-path.js';
import { endToEndScenario } from './scenarios/end-to-end.js';
import { hotKeysScenario } from './scenarios/hot-keys.js';
import { runtimeOverheadScenario } from './scenarios/runtime-overhead.js';
import { workerDrainScenario } from './scenarios/worker-drain.js';
import { partitionedDrainScenario } from './scenarios/partitioned-drain.js';
import { pipelineUnavailable } from './support/pipeline.js';

const SCENARIOS: readonly Scenario[] = [ceilingScenario, anchorScenario, captureReadScenario, dataPathScenario, workerDrainScenario, partitionedDrainScenario, endToEndScenario, hotKeysScenario, runtimeOverheadScenario, backfillScenario];
/** Scenarios that need the runtime, the library and the worker (not just MariaDB). */
const PIPELINE_SCENARIOS = new Set(['drain', 'drain-partitions', 'e2e', 'hot-keys', 'overhead', 'backfill']);

function ratios(results: readonly ScenarioResult[]): Ratio[] {
  return [
    { label: 'drain / ceiling', value: ratioOf(results, 'drain.rowsPerSecond', 'ceiling.rowsPerSecond'), target: 'target ≥ 0.8' },
    { label: 'drain, one transaction per batch / ceiling', value: ratioOf(results, 'drain.ungrouped.rowsPerSecond', 'ceiling.rowsPerSecond') },
    { label: 'data path (reads + parse + writer, no runtime) / ceiling', value: ratioOf(results, 'dataPath.rowsPerSecond', 'ceiling.rowsPerSecond') },
    { label: 'drain / data path', value: ratioOf(results, 'drain.rowsPerSecond', 'dataPath.rowsPerSecond') },
    { label: 'drain / anchor per-record', value: ratioOf(results, 'drain.rowsPerSecond', 'anchor.perRecord.rowsPerSecond') },
    { label: 'drain / anchor as PyMySQL sends it', value: ratioOf(results, 'drain.rowsPerSecond', 'anchor.executemany.rowsPerSecond') },
    { label: 'anchor per-record / ceiling', value: ratioOf(results, 'anchor.perRecord.rowsPerSecond', 'ceiling.rowsPerSecond') },
    { label: 'backfill keys captured/s / drain rows/s', value: ratioOf(results, 'backfill.capture.keysPerSecond', 'drain.rowsPerSecond') },
    { label: 'backfill rows in MySQL/s / drain rows/s', value: ratioOf(results, 'backfill.rowsPerSecond', 'drain.rowsPerSecond') },
    { label: 'runtime captured HSET/s / redis-server HSET/s', value: ratioOf(results, 'overhead.runtimeCaptured', 'overhead.direct'), target: 'target ≥ 0.05' },
    { label: 'runtime captured HSET/s, Unix socket / redis-server HSET/s', value: ratioOf(results, 'overhead.runtimeCapturedUnix', 'overhead.direct'), target: 'target ≥ 0.05' },
    { label: 'runtime pass-through -P 16 / redis-server -P 16', value: ratioOf(results, 'overhead.runtimeUncapturedPipelined', 'overhead.directPipelined'), target: 'target ≥ 0.3' },
  ];
}

/** Runs one scenario; a failure is reported in the table (and the exit code) instead of losing the others. */
async function runScenario(scenario: Scenario, context: Parameters<Scenario['run']>[0]): Promise<{ result: ScenarioResult; failed: boolean }> {
  const unavailable = PIPELINE_SCENARIOS.has(scenario.id) ? pipelineUnavailable() : null;
  if (unavailable !== null) {
    process.stderr.write(`  skipped: ${unavailable}\n`);
    return { result: { id: scenario.id, title: scenario.title, figures: [], notes: [], skipped: unavailable }, failed: false };
  }
  try {
    return { result: await scenario.run(context), failed: false };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`  FAILED: ${error instanceof Error ? (error.stack ?? message) : message}\n`);
    return { result: { id: scenario.id, title: scenario.title, figures: [], notes: [], skipped: `failed: ${message.split('\n')[0]}` }, failed: true };
  }
}

async function main(): Promise<void> {
  const options = parseBenchOptions(process.argv, SCENARIOS.map((s) => s.id));
  const selected = SCENARIOS.filter((s) => options.only.length === 0 || options.only.includes(s.id));
  const startedAt = new Date();
  const db = await createBenchDatabase('bench');
  // Ctrl-C must not leave the bench database behind on the shared server.
  const onSignal = () => void db.drop().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const machine = await describeMachine(db);
    process.stderr.write(`machine: ${renderMachine(machine)}\nscale: ${options.scale.rows} rows, ${options.scale.reps} repetitions${options.scale.quick ? ' (quick)' : ''}\n`);
    const results: ScenarioResult[] = [];
    let failures = 0;
    for (const scenario of selected) {
      announce(scenario.title);
      const { result, failed } = await runScenario(scenario, { scale: options.scale, db });
      results.push(result);
      if (failed) failures++;
    }
    const report: BenchReport = {
      startedAt: startedAt.toISOString(),
      durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
      scale: options.scale,
      machine,
      scenarios: results,
      ratios: ratios(results),
    };
    process.stdout.write(`\n${renderTextTable(report)}\n\nmachine: ${renderMachine(machine)}\n`);
    const files = await writeReport(report, options.out);
    process.stdout.write(`wrote ${files.json} and ${files.markdown}\n`);
    if (failures > 0) process.exitCode = 1;
  } finally {
    await db.drop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
