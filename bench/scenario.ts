/**
 * What a scenario receives and what it hands back. A scenario measures; the harness repeats nothing itself,
 * because each scenario knows what one repetition is (and what must be reset between two).
 */
import type { BenchDatabase } from './support/bench-database.js';
import type { Summary } from './support/stats.js';

export interface BenchScale {
  /** Rows (or changes) per repetition of the throughput scenarios. */
  readonly rows: number;
  /** Repetitions per figure; the median is reported. */
  readonly reps: number;
  /** Shorter runs everywhere (CI smoke, a first look). */
  readonly quick: boolean;
  /** (d)'s fixed rates when chosen with --e2e-rates (then the sustained-rate search is skipped). */
  readonly e2eRates?: readonly number[];
}

export interface ScenarioContext {
  readonly scale: BenchScale;
  readonly db: BenchDatabase;
}

/**
 * Where a figure comes from. `local-runtime` figures are produced through this project's development runtime
 * (a Node process in front of redis-server), not through Redis Stack's RedisGears; they say nothing about the
 * real module's speed.
 */
export type FigureOrigin = 'mariadb' | 'redis-server' | 'local-runtime';

export interface Figure {
  readonly id: string;
  readonly label: string;
  readonly unit: string;
  readonly summary: Summary;
  readonly origin: FigureOrigin;
}

export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly figures: Figure[];
  /** Why the scenario did not run (a missing component), when it did not. */
  readonly skipped?: string;
  /** Facts a reader needs to interpret the figures (sizes, settings). */
  readonly notes: string[];
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  run(context: ScenarioContext): Promise<ScenarioResult>;
}
