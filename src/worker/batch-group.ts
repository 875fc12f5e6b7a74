/**
 * Consecutive batches written in one MySQL transaction. Under a backlog the worker holds several batches whose
 * ranges follow one another (each `from` is the previous `to`); writing them together pays the per-transaction
 * costs (round trips, the commit's flush, the ownership check) once. Each batch keeps its own descriptor:
 * they are acknowledged one by one, in order, after the commit.
 */
import type { BatchDescriptor } from './batch-descriptor.js';

export interface BatchGroup {
  /** In stream order; at least one. */
  readonly descriptors: readonly BatchDescriptor[];
  /** Exclusive lower bound: the first batch's `from`. */
  readonly from: string;
  /** Inclusive upper bound: the last batch's `to`. */
  readonly to: string;
  /** Capture records the descriptors announce. */
  readonly count: number;
  /** Names the group in logs and errors: the descriptor id, or `<first>..<last>`. */
  readonly label: string;
}

/**
 * The group that starts at `ordered[start]`: the batches that follow it without a gap, while their records
 * add up to at most `maxRecords` (the first batch always belongs, whatever its size). A descriptor that does
 * not announce its count (0) is written alone.
 */
export function groupBatches(ordered: readonly BatchDescriptor[], start: number, maxRecords: number): BatchGroup {
  const first = ordered[start];
  if (first === undefined) throw new RangeError(`no batch at index ${start}`);
  const descriptors = [first];
  let count = first.count;
  for (let i = start + 1; i < ordered.length && first.count > 0; i++) {
    const next = ordered[i]!;
    if (next.from !== descriptors.at(-1)!.to || next.count === 0 || count + next.count > maxRecords) break;
    descriptors.push(next);
    count += next.count;
  }
  const last = descriptors.at(-1)!;
  return { descriptors, from: first.from, to: last.to, count, label: descriptors.length === 1 ? first.id : `${first.id}..${last.id}` };
}

/** The same batches, in the same order. */
export function sameGroup(a: BatchGroup, b: BatchGroup): boolean {
  return a.descriptors.length === b.descriptors.length && a.descriptors.every((d, i) => d.id === b.descriptors[i]!.id);
}
