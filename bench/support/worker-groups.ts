/**
 * The worker's committed groups as its `group committed` debug lines report them (LOG_LEVEL=debug): how long
 * each took and how much of that was its MySQL transactions. Bench (d) reads them per run, so that a run whose
 * HSET → row p99 misses shows whether MySQL commits were slow in it (docs/runtime.md#hset--row-visible-bench-d).
 */
import type { CliProcess } from './cli-process.js';
import { percentile, sortNumbers } from './stats.js';

interface Group {
  /** Date.now() when the line came. */
  readonly at: number;
  readonly ms: number;
  readonly transactionMs: number;
}

export interface GroupSummary {
  readonly count: number;
  readonly p99Ms: number;
  readonly transactionP99Ms: number;
  /** Groups that took longer than SLOW_MS. */
  readonly slow: number;
}

export const SLOW_MS = 100;

export class WorkerGroups {
  readonly #groups: Group[] = [];

  /** Follows `worker`'s output; the worker must log at debug level. */
  constructor(worker: CliProcess) {
    worker.onLine((line) => {
      if (!line.includes('"group committed"')) return;
      try {
        const parsed = JSON.parse(line) as { ms?: unknown; transactionMs?: unknown };
        if (typeof parsed.ms === 'number' && typeof parsed.transactionMs === 'number') this.#groups.push({ at: Date.now(), ms: parsed.ms, transactionMs: parsed.transactionMs });
      } catch {
        // not a whole JSON line: not one of the worker's log lines
      }
    });
  }

  /** The groups reported between `from` and `to` (Date.now() times). */
  between(from: number, to: number): GroupSummary {
    const groups = this.#groups.filter((g) => g.at >= from && g.at <= to);
    const ms = sortNumbers(groups.map((g) => g.ms));
    const transactionMs = sortNumbers(groups.map((g) => g.transactionMs));
    return {
      count: groups.length,
      p99Ms: percentile(ms, 99),
      transactionP99Ms: percentile(transactionMs, 99),
      slow: groups.filter((g) => g.ms > SLOW_MS).length,
    };
  }
}
