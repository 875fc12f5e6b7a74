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
import { ceilingScenario } from './scenarios/ceiling.js';

const SCENARIOS: readonly Scenario[] = [ceilingScenario, anchorScenario];

function ratios(results: readonly ScenarioResult[]): Ratio[] {
  return [
    { label: 'anchor per-record / ceiling', value: ratioOf(results, 'anchor.perRecord.rowsPerSecond', 'ceiling.rowsPerSecond') },
    { label: 'anchor as PyMySQL sends it / ceiling', value: ratioOf(results, 'anchor.executemany.rowsPerSecond', 'ceiling.rowsPerSecond') },
  ];
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
    for (const scenario of selected) {
      announce(scenario.title);
      results.push(await scenario.run({ scale: options.scale, db }));
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
  } finally {
    await db.drop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
