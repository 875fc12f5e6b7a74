/**
 * Summaries of repeated measurements. Every figure the bench reports is the median of its repetitions, with
 * min and max beside it so a reader sees the spread; latency distributions use nearest-rank percentiles.
 */

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: readonly number[];
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, samples: [...samples] };
}

/** Nearest-rank percentile (p in 0..100) of a sorted array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** Sorts latencies (in place is fine: they are the caller's scratch array) for percentile(). */
export function sortNumbers(values: number[]): number[] {
  return values.sort((a, b) => a - b);
}
