/**
 * The bench's command line, checked once: the scale of the run and which scenarios to run. Defaults are sized
 * for 2 cores / 24 GiB: a full run stays under ~10 minutes, `--quick` under ~2.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { BenchScale } from './scenario.js';

export const FULL_SCALE: BenchScale = Object.freeze({ rows: 100_000, reps: 3, quick: false });
export const QUICK_SCALE: BenchScale = Object.freeze({ rows: 20_000, reps: 2, quick: true });

export interface BenchOptions {
  readonly scale: BenchScale;
  /** Scenario ids to run, in the harness's order; all when empty. */
  readonly only: readonly string[];
  /** Directory of results.json and results.md. */
  readonly out: string;
}

function positiveInt(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };
}

export function parseBenchOptions(argv: readonly string[], scenarioIds: readonly string[]): BenchOptions {
  const program = new Command('bench')
    .description('Measures the write-behind against the MariaDB ceiling and rgsync\'s algorithm; prints a table and writes bench/results/.')
    .option('--rows <n>', `rows (changes) per repetition (default ${FULL_SCALE.rows}, --quick ${QUICK_SCALE.rows})`, positiveInt('--rows', 1000))
    .option('--reps <n>', `repetitions per figure, median reported (default ${FULL_SCALE.reps}, --quick ${QUICK_SCALE.reps})`, positiveInt('--reps', 1))
    .option('--quick', 'a short run (about 2 minutes): fewer rows, fewer repetitions, shorter rate steps', false)
    .addOption(new Option('--only <ids...>', 'run only these scenarios').choices([...scenarioIds]))
    .option('--e2e-rates <n...>', '(d) only: run these fixed rates (HSET/s) and skip the sustained-rate search', (value: string, previous: number[] = []) => [...previous, positiveInt('--e2e-rates', 1)(value)])
    .option('--out <dir>', 'directory of results.json and results.md', 'bench/results')
    .showHelpAfterError()
    .parse([...argv]);
  const opts = program.opts<{ rows?: number; reps?: number; quick: boolean; only?: string[]; out: string; e2eRates?: number[] }>();
  const base = opts.quick ? QUICK_SCALE : FULL_SCALE;
  return Object.freeze({
    scale: Object.freeze({ rows: opts.rows ?? base.rows, reps: opts.reps ?? base.reps, quick: opts.quick, ...(opts.e2eRates === undefined ? {} : { e2eRates: Object.freeze(opts.e2eRates) }) }),
    only: opts.only ?? [],
    out: opts.out,
  });
}
