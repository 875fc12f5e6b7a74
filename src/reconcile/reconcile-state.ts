/**
 * The figures of the last backfill and the last verify of a writer, kept in `wb:backfill:{w}` and
 * `wb:verify:{w}` (plain hashes of text fields), read back by `status` and the worker's gauges. The backfill
 * hash is also its resume point: `cursor` is the SCAN cursor after the last page whose images were captured.
 */

export type BackfillRunState = 'running' | 'interrupted' | 'done';

export interface BackfillState {
  readonly state: BackfillRunState;
  /** The id glob (`--match`) the cursor belongs to: a cursor is only resumed with the same glob. */
  readonly match: string;
  readonly cursor: string;
  /** Keys scanned and captured over the whole backfill (across resumed runs). */
  readonly scanned: number;
  readonly captured: number;
  /** Keys gone, or of another type, between SCAN and their capture. */
  readonly skipped: number;
  /**
   * Keys left alone because their last write was `#` `+` (their divergence record holds): kept apart from MySQL
   * on purpose.
   */
  readonly kept: number;
  readonly deadLettered: number;
  /** Keys scanned by the last run alone (a resumed run starts at the stored cursor). */
  readonly runScanned: number;
  readonly startedAt: number;
  readonly updatedAt: number;
}

export interface VerifyState {
  /** When it finished (ms since the epoch). */
  readonly at: number;
  /** Hashes compared with their rows, and rows checked for a hash (0 when not searched: `rowsSearched`). */
  readonly keys: number;
  readonly rows: number;
  /** False for an `onExpire: keep` writer, whose table verify does not search for orphan rows. */
  readonly rowsSearched: boolean;
  readonly missing: number;
  readonly stale: number;
  readonly orphan: number;
  readonly repaired: number;
  /** The --sample asked for, 0 for a full verify. */
  readonly sample: number;
  readonly durationMs: number;
}

export function backfillFields(state: BackfillState): Record<string, string> {
  return {
    state: state.state, match: state.match, cursor: state.cursor,
    scanned: String(state.scanned), captured: String(state.captured), skipped: String(state.skipped), kept: String(state.kept), dead_lettered: String(state.deadLettered),
    run_scanned: String(state.runScanned), started_at: String(state.startedAt), updated_at: String(state.updatedAt),
  };
}

export function parseBackfillState(fields: Record<string, string>): BackfillState | null {
  const state = fields['state'];
  if (state !== 'running' && state !== 'interrupted' && state !== 'done') return null;
  const n = (name: string) => Number(fields[name] ?? '0') || 0;
  return {
    state, match: fields['match'] ?? '*', cursor: fields['cursor'] ?? '0',
    scanned: n('scanned'), captured: n('captured'), skipped: n('skipped'), kept: n('kept'), deadLettered: n('dead_lettered'),
    runScanned: n('run_scanned'), startedAt: n('started_at'), updatedAt: n('updated_at'),
  };
}

export function verifyFields(state: VerifyState): Record<string, string> {
  return {
    at: String(state.at), keys: String(state.keys), rows: String(state.rows), missing: String(state.missing), stale: String(state.stale),
    orphan: String(state.orphan), repaired: String(state.repaired), sample: String(state.sample), duration_ms: String(state.durationMs),
    rows_searched: state.rowsSearched ? '1' : '0',
  };
}

export function parseVerifyState(fields: Record<string, string>): VerifyState | null {
  if (fields['at'] === undefined) return null;
  const n = (name: string) => Number(fields[name] ?? '0') || 0;
  // A verify stored before rows_searched was kept searched them (or said so).
  return { at: n('at'), keys: n('keys'), rows: n('rows'), rowsSearched: fields['rows_searched'] !== '0', missing: n('missing'), stale: n('stale'), orphan: n('orphan'), repaired: n('repaired'), sample: n('sample'), durationMs: n('duration_ms') };
}

export function verifyDifferences(state: VerifyState): number {
  return state.missing + state.stale + state.orphan;
}

/** Why verify did not search the table of an `onExpire: keep` writer for orphan rows (its report and status say it). */
export const ROWS_NOT_SEARCHED = 'rows without a hash not searched for: onExpire: keep keeps the row of an expired hash by design';

/** What was compared: `N key(s), M row(s)`, or for an `onExpire: keep` writer `N key(s) compared with their rows`. */
export function comparedPart(keys: number, rows: number, rowsSearched: boolean): string {
  return rowsSearched ? `${keys} key(s), ${rows} row(s)` : `${keys} key(s) compared with their rows`;
}

/** One line for `writebehind status`. */
export function formatReconcile(backfill: BackfillState | null, verify: VerifyState | null): string {
  const parts: string[] = [];
  if (backfill !== null) {
    parts.push(`last backfill ${backfill.state} ${new Date(backfill.updatedAt).toISOString()}: ${backfill.scanned} key(s) scanned, ${backfill.captured} captured${backfill.kept > 0 ? `, ${backfill.kept} kept` : ''}`);
  }
  if (verify !== null) {
    parts.push(`last verify ${new Date(verify.at).toISOString()}${verify.sample > 0 ? ` (sample ${verify.sample})` : ''}: ${comparedPart(verify.keys, verify.rows, verify.rowsSearched)}, ${verifyDifferences(verify)} difference(s) (missing ${verify.missing}, stale ${verify.stale}, ${verify.rowsSearched ? `orphan ${verify.orphan}` : 'orphan rows not searched for: onExpire: keep'}${verify.repaired > 0 ? `, ${verify.repaired} repaired` : ''})`);
  }
  return parts.join('; ');
}
