/**
 * `npm run chaos`: the fault campaign, on loopback only, bounded in time. Each round runs the whole pipeline
 * (own redis-server with AOF, the local runtime, the library, worker processes) under a steady load while one
 * kind of fault is injected, drains, and compares every MySQL row with its Redis hash. Prints a table: per
 * fault, what was injected, whether the system recovered, changes written, changes lost (must be 0) and
 * changes applied twice with exactly-once on (must be 0). Exit code 1 when any of those fails.
 */
import { Command, InvalidArgumentError } from 'commander';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createBenchDatabase } from './support/bench-database.js';
import { describeMachine } from './support/machine.js';
import { announce } from './support/progress.js';
import { renderMachine } from './support/report.js';
import { pipelineUnavailable } from './support/pipeline.js';
import { runRound, type Fault, type RoundResult } from './chaos/chaos-round.js';
import { CLUSTER_ROUND, runClusterRound } from './chaos/cluster-round.js';
import { FAILOVER_ROUND, runFailoverRound } from './chaos/failover-round.js';
import { badInputs } from './chaos/faults/bad-inputs.js';
import { mysqlCuts } from './chaos/faults/mysql-cuts.js';
import { poisonRecords } from './chaos/faults/poison-records.js';
import { runtimeRestarts } from './chaos/faults/runtime-restarts.js';
import { workerKills } from './chaos/faults/worker-kills.js';

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

const options = new Command('chaos')
  .description('Fault campaign on loopback: worker SIGKILLs, MySQL connection cuts, runtime/redis-server restarts, poison records, bad inputs, on a 3-shard Redis Cluster slot moves with worker kills, and a primary SIGKILLed and failed over to its replica (worker --wait-replicas 1); prints losses and double applications.')
  .option('--seconds <n>', 'seconds of load per fault round (default 15, --quick 6)', positiveInt('--seconds'))
  .option('--rate <n>', 'changes per second of the load', positiveInt('--rate'), 150)
  .option('--keys <n>', 'distinct keys the load writes', positiveInt('--keys'), 2000)
  .option('--quick', 'shorter rounds (about a minute in all)', false)
  .option('--no-exactly-once', 'control run at-least-once: replays are allowed, so "applied twice" shows the detector at work')
  .option('--only <names...>', 'run only the faults whose name contains one of these words (e.g. worker, mysql, restarts, poison, bad, cluster, failover)')
  .option('--out <dir>', 'directory of chaos.json and chaos.md', 'bench/results')
  .parse(process.argv)
  .opts<{ seconds?: number; rate: number; keys: number; quick: boolean; exactlyOnce: boolean; only?: string[]; out: string }>();

const seconds = options.seconds ?? (options.quick ? 6 : 15);
const selected = (name: string) => options.only === undefined || options.only.some((word) => name.toLowerCase().includes(word.toLowerCase()));
const FAULTS: readonly Fault[] = [workerKills(options.quick ? 3 : 5), mysqlCuts(), runtimeRestarts(options.quick ? 2 : 4), poisonRecords(options.quick ? 6 : 12), badInputs()].filter((fault) => selected(fault.name));

const HEADER = ['fault', 'injected', 'survived', 'changes', 'lost', 'lost, write unanswered', 'applied twice'] as const;

function rowsOf(results: readonly RoundResult[]): string[][] {
  return results.map((r) => [r.fault, r.injected, r.survived ? 'yes' : 'NO', String(r.changes), String(r.lost), String(r.lostUnacknowledged), String(r.appliedTwice)]);
}

function renderTable(results: readonly RoundResult[]): string {
  const rows = [[...HEADER], ...rowsOf(results)];
  const widths = HEADER.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c >= 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

function renderMarkdown(results: readonly RoundResult[], machine: string, startedAt: string): string {
  return [
    `# Chaos campaign (${startedAt})`,
    '',
    `Machine: ${machine}. Load: ${options.rate} changes/s over ${options.keys} keys, ${seconds} s per round, ${options.exactlyOnce ? 'exactly-once on' : 'AT-LEAST-ONCE (control run: double applications allowed)'}. All through this project's RedisGears 2 runtime in front of redis-server, not Redis Stack.`,
    '',
    `| ${HEADER.join(' | ')} |`,
    `|${HEADER.map((_, c) => (c >= 3 ? '---:' : '---')).join('|')}|`,
    ...rowsOf(results).map((r) => `| ${r.join(' | ')} |`),
    '',
    ...results.flatMap((r) => r.notes.map((n) => `- ${r.fault}: ${n}`)),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const unavailable = pipelineUnavailable();
  if (unavailable !== null) throw new Error(`cannot run the campaign: ${unavailable} (run npm run build)`);
  const startedAt = new Date().toISOString();
  const db = await createBenchDatabase('chaos');
  const onSignal = () => void db.drop().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const machine = renderMachine(await describeMachine(db));
    process.stderr.write(`machine: ${machine}\n`);
    const results: RoundResult[] = [];
    const roundOptions = { seconds, rate: options.rate, keys: options.keys, exactlyOnce: options.exactlyOnce };
    const rounds = [
      ...FAULTS.map((fault) => ({ name: fault.name, run: () => runRound(fault, db, roundOptions) })),
      ...(selected(CLUSTER_ROUND) ? [{ name: CLUSTER_ROUND, run: () => runClusterRound(db, roundOptions) }] : []),
      ...(selected(FAILOVER_ROUND) ? [{ name: FAILOVER_ROUND, run: () => runFailoverRound(db, roundOptions) }] : []),
    ];
    for (const round of rounds) {
      announce(round.name);
      try {
        results.push(await round.run());
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        process.stderr.write(`  round failed: ${error instanceof Error ? (error.stack ?? message) : message}\n`);
        results.push({ fault: round.name, injected: '-', survived: false, changes: 0, lost: Number.NaN, lostUnacknowledged: Number.NaN, appliedTwice: Number.NaN, notes: [`round failed: ${message.split('\n')[0]}`] });
      }
    }
    process.stdout.write(`\n${renderTable(results)}\n\n`);
    for (const r of results) for (const n of r.notes) process.stdout.write(`  ${r.fault}: ${n}\n`);
    await mkdir(options.out, { recursive: true });
    const name = options.exactlyOnce ? 'chaos' : 'chaos-at-least-once';
    await writeFile(join(options.out, `${name}.json`), `${JSON.stringify({ startedAt, machine, seconds, rate: options.rate, keys: options.keys, exactlyOnce: options.exactlyOnce, results }, null, 2)}\n`);
    await writeFile(join(options.out, `${name}.md`), renderMarkdown(results, machine, startedAt));
    process.stdout.write(`wrote ${join(options.out, `${name}.json`)} and ${name}.md\n`);
    // At-least-once (the control run) may apply a change twice; it may never lose one.
    if (results.some((r) => !r.survived || r.lost !== 0 || r.lostUnacknowledged !== 0 || (options.exactlyOnce && r.appliedTwice !== 0))) process.exitCode = 1;
  } finally {
    await db.drop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`chaos failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
