/**
 * The differences verify found, kept bounded: counts of each kind and the first examples (sorted for the
 * report), never the whole list, so a table that differs everywhere costs no more memory than one that does not.
 */
import type { ColumnDifference } from './compare-row.js';
import { KILLED_HINT } from './recapture-splitting.js';
import { comparedPart, ROWS_NOT_SEARCHED } from './reconcile-state.js';

export interface StaleExample {
  readonly key: string;
  readonly columns: readonly ColumnDifference[];
}

export interface DifferenceCounts<T> {
  count: number;
  examples: T[];
}

export interface VerifyReport {
  readonly writer: string;
  /** Hashes compared with their rows. */
  keys: number;
  /** Rows of the table checked for a hash (the search for orphan rows); 0 when that search is skipped. */
  rows: number;
  /**
   * Whether the table was searched for rows without a hash: not for a writer with `onExpire: keep`, whose rows
   * outlive their expired hashes by design (each hash is still compared with its row).
   */
  rowsSearched: boolean;
  /** Hashes without a row. */
  missing: DifferenceCounts<string>;
  /** Rows whose columns differ from their hash. */
  stale: DifferenceCounts<StaleExample>;
  /** Rows without a hash. */
  orphan: DifferenceCounts<string>;
  /** Keys that differed at first sight and turned out to be changes in flight (not differences). */
  inFlight: number;
  /** Records captured by --repair (images and deletes). */
  repaired: number;
  /** Differing keys --repair could not re-capture: the call for one alone outlasted lock-redis-timeout. */
  notRepaired: DifferenceCounts<string>;
  /**
   * Keys left alone because their divergence record holds: written with `#` `+` (changed in Redis only) or `-`
   * (deleted from Redis only), so they differ from MySQL on purpose. Not differences.
   */
  kept: number;
  /** Stale divergence records (the key changed since its `+`/`-` write) that --repair had removed. */
  recordsRemoved: number;
  sample: number;
  durationMs: number;
}

export const MAX_EXAMPLES = 10;

export function emptyReport(writer: string, sample: number): VerifyReport {
  return { writer, keys: 0, rows: 0, rowsSearched: true, missing: { count: 0, examples: [] }, stale: { count: 0, examples: [] }, orphan: { count: 0, examples: [] }, inFlight: 0, repaired: 0, notRepaired: { count: 0, examples: [] }, kept: 0, recordsRemoved: 0, sample, durationMs: 0 };
}

export function addExample<T>(counts: DifferenceCounts<T>, example: T): void {
  counts.count += 1;
  if (counts.examples.length < MAX_EXAMPLES) counts.examples.push(example);
}

export function differenceCount(report: VerifyReport): number {
  return report.missing.count + report.stale.count + report.orphan.count;
}

/** Examples in key order, for a stable report. */
export function sortExamples(report: VerifyReport): void {
  report.missing.examples.sort();
  report.orphan.examples.sort();
  report.stale.examples.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function formatReport(report: VerifyReport): string {
  const lines = [`verify ${report.writer}: ${comparedPart(report.keys, report.rows, report.rowsSearched)}${report.sample > 0 ? ` (sample ${report.sample})` : ''}, ${differenceCount(report)} difference(s) in ${report.durationMs} ms`];
  if (!report.rowsSearched) lines.push(`  ${ROWS_NOT_SEARCHED}`);
  if (report.missing.count > 0) lines.push(`  missing rows ${report.missing.count}: ${report.missing.examples.join(' ')}`);
  if (report.stale.count > 0) {
    lines.push(`  stale rows ${report.stale.count}:`);
    for (const s of report.stale.examples) lines.push(`    ${s.key}: ${s.columns.map((c) => `${c.column} redis=${JSON.stringify(c.redis)} mysql=${JSON.stringify(c.mysql)}`).join(', ')}`);
  }
  if (report.orphan.count > 0) lines.push(`  orphan rows ${report.orphan.count}: ${report.orphan.examples.join(' ')}`);
  if (report.inFlight > 0) lines.push(`  ${report.inFlight} key(s) changing meanwhile (in flight, not differences)`);
  if (report.kept > 0) lines.push(`  ${report.kept} key(s) written with # + or # - kept as they are (not replicated on purpose, not differences)`);
  if (report.recordsRemoved > 0) lines.push(`  ${report.recordsRemoved} stale # +/- record(s) removed (their keys changed since)`);
  if (report.repaired > 0) lines.push(`  repaired: ${report.repaired} record(s) captured; the worker writes them like any change`);
  if (report.notRepaired.count > 0) lines.push(`  not repaired ${report.notRepaired.count}, ${KILLED_HINT}: ${report.notRepaired.examples.join(' ')}`);
  return lines.join('\n');
}
