/**
 * The verify run. Two passes, each by pages, so memory is bounded by the page size for any table:
 * 1. the writer's hashes (SCAN): each page's images against the rows of the same primary keys → missing, stale;
 * 2. the table's rows in primary key order (keyset pages) against the existence of their hashes → orphans
 *    (skipped for a writer with `onExpire: keep`, whose rows outlive their hashes on purpose).
 * A key that differs at first sight is settled before it is reported (see settle()): only what the worker has
 * committed is compared, and a key changing meanwhile is in flight, not a difference. With `repair`, each
 * difference is re-captured through the library (an image, or a delete for an orphan), never written to MySQL.
 * A key whose divergence record (`#` `+`/`-`, shared/divergence-record.ts) still holds differs on purpose: it is
 * kept, neither compared nor repaired; a record that no longer holds is stale, its key compared as any other,
 * and `repair` has the library remove the record.
 */
import { recordHolds } from '../shared/divergence-record.js';
import { LibraryFunction } from '../shared/protocol.js';
import type { TableSchema } from '../worker/mysql/table-schema.js';
import { waitCommitted } from './commit-wait.js';
import { compareRow, type Comparison } from './compare-row.js';
import { addExample, differenceCount, emptyReport, sortExamples, type VerifyReport } from './difference-report.js';
import { ProgressLine, perSecond } from './progress-line.js';
import { comparedPart } from './reconcile-state.js';
import { recaptureSplitting, REPAIR_PAGE } from './recapture-splitting.js';
import type { ReconcileMysql, TargetRow } from './reconcile-mysql.js';
import { fieldsOf, type HashImage, type ReconcileRedis } from './reconcile-redis.js';
import { keyOfRow, keyValuesOf, scanPattern, type WriterTarget } from './writer-target.js';

export interface VerifyOptions {
  readonly target: WriterTarget;
  /** Compare about this many hashes (and rows) instead of all; 0 or undefined: all. */
  readonly sample?: number;
  readonly repair?: boolean;
  /** Keys per page on both sides. @defaultValue 500 */
  readonly pageSize?: number;
  /** Longest wait for the worker to commit what was captured before an image was read. @defaultValue 60000 */
  readonly waitMs?: number;
  readonly print?: (line: string) => void;
}

export async function verify(redis: ReconcileRedis, mysql: ReconcileMysql, options: VerifyOptions): Promise<VerifyReport> {
  const started = Date.now();
  const verifier = new Verifier(redis, mysql, await mysql.schema(options.target), options);
  const report = await verifier.run();
  report.durationMs = Date.now() - started;
  sortExamples(report);
  return report;
}

type Difference = Exclude<Comparison, { kind: 'equal' }>;

/** A key whose divergence record holds: MySQL differs from it on purpose. */
const KEPT = 'kept';

class Verifier {
  readonly #redis: ReconcileRedis;
  readonly #mysql: ReconcileMysql;
  readonly #schema: TableSchema;
  readonly #options: VerifyOptions;
  readonly #target: WriterTarget;
  readonly #page: number;
  readonly #sample: number;
  readonly #report: VerifyReport;
  readonly #progress: ProgressLine;
  readonly #started = Date.now();
  /** Keys whose divergence record was found stale, for `repair` to have removed. */
  #staleRecords = new Set<string>();

  constructor(redis: ReconcileRedis, mysql: ReconcileMysql, schema: TableSchema, options: VerifyOptions) {
    this.#redis = redis;
    this.#mysql = mysql;
    this.#schema = schema;
    this.#options = options;
    this.#target = options.target;
    this.#sample = options.sample ?? 0;
    this.#page = Math.max(1, Math.min(options.pageSize ?? 500, this.#sample > 0 ? this.#sample : Infinity));
    this.#report = emptyReport(options.target.name, this.#sample);
    this.#progress = new ProgressLine(options.print ?? (() => undefined));
  }

  async run(): Promise<VerifyReport> {
    const firstKey = await this.#hashesAgainstRows();
    if (this.#target.keepsRowsWithoutHash) {
      this.#report.rowsSearched = false;
      return this.#report;
    }
    await this.#rowsAgainstHashes(this.#sample > 0 && firstKey !== null ? keyValuesOf(this.#target, firstKey) : null);
    return this.#report;
  }

  /** Pass 1; returns the first key scanned (a sample's random start for pass 2). */
  async #hashesAgainstRows(): Promise<string | null> {
    let cursor = '0';
    let first: string | null = null;
    do {
      const step = await this.#redis.scan(cursor, scanPattern(this.#target, '*'), this.#page);
      const keys = this.#sample > 0 ? step.keys.slice(0, this.#sample - this.#report.keys) : step.keys;
      first ??= keys[0] ?? null;
      this.#report.keys += keys.length;
      const { images, records } = await this.#redis.imagesAt(this.#target, keys);
      const rows = await this.#rowsByKey(keys);
      const candidates: string[] = [];
      for (const key of keys) {
        const image = images.get(key) ?? null;
        if (this.#kept(key, image, records)) this.#report.kept += 1;
        else if (compareRow(this.#target, this.#schema, image, rows.get(key)).kind !== 'equal') candidates.push(key);
      }
      await this.#settle(candidates);
      await this.#forgetStaleRecords();
      this.#showProgress();
      cursor = step.cursor;
    } while (cursor !== '0' && (this.#sample === 0 || this.#report.keys < this.#sample));
    // A report over every hash only if every hash was scanned once (a sample claims no such thing).
    if (cursor === '0' && this.#sample === 0) await this.#redis.checkScanStable?.();
    return first;
  }

  /** Pass 2: rows whose key holds no value at all (another type is the capture's dead letter, not an orphan). */
  async #rowsAgainstHashes(after: string[] | null): Promise<void> {
    let last: readonly string[] | null = after;
    // A sample starts at a random row; reaching the table's end, it goes on from the first row.
    let wrapped = after === null;
    for (;;) {
      const limit = this.#sample > 0 ? Math.min(this.#page, this.#sample - this.#report.rows) : this.#page;
      if (limit <= 0) return;
      const rows = await this.#mysql.pageAfter(this.#target, last, limit);
      this.#report.rows += rows.length;
      const keys = rows.map((row) => keyOfRow(this.#target, row.keyValues));
      const types = await this.#redis.types(keys);
      await this.#settle(keys.filter((_, i) => types[i] === 'none'));
      await this.#forgetStaleRecords();
      this.#showProgress();
      if (rows.length < limit) {
        if (wrapped) return;
        wrapped = true;
        last = null;
        continue;
      }
      last = rows[rows.length - 1]!.keyValues;
    }
  }

  /**
   * A candidate is reported only when two rounds agree: each round reads the images together with the capture
   * stream's last id, waits for the worker to commit through that id, then reads the rows. A key whose image or
   * row changed between the rounds was being written: in flight, not a difference.
   */
  async #settle(candidates: readonly string[]): Promise<void> {
    if (candidates.length === 0) return;
    const first = await this.#round(candidates);
    const differing = [...first].filter(([, [d]]) => d !== KEPT).map(([key]) => key);
    const second = differing.length === 0 ? new Map<string, [Difference | typeof KEPT, string]>() : await this.#round(differing);
    const confirmed: Array<[string, Difference]> = [];
    for (const key of candidates) {
      const [a, b] = [first.get(key), second.get(key)];
      // A record that holds is read with the image, in one instant: no second round needed.
      if (a?.[0] === KEPT) this.#report.kept += 1;
      else if (a !== undefined && b !== undefined && b[0] !== KEPT && a[1] === b[1]) confirmed.push([key, b[0]]);
      else this.#report.inFlight += 1;
    }
    for (const [key, difference] of confirmed) {
      if (difference.kind === 'missing') addExample(this.#report.missing, key);
      else if (difference.kind === 'orphan') addExample(this.#report.orphan, key);
      else addExample(this.#report.stale, { key, columns: difference.columns });
    }
    if (this.#options.repair === true) await this.#repair(confirmed);
  }

  /** The keys that differ after the worker committed what was captured before their images were read. */
  async #round(keys: readonly string[]): Promise<Map<string, [Difference | typeof KEPT, string]>> {
    const { images, lastCaptureIds, records } = await this.#redis.imagesAt(this.#target, keys);
    await waitCommitted(this.#redis, lastCaptureIds, this.#options.waitMs ?? 60_000);
    const rows = await this.#rowsByKey(keys);
    const out = new Map<string, [Difference | typeof KEPT, string]>();
    for (const key of keys) {
      const image = images.get(key) ?? null;
      if (this.#kept(key, image, records)) {
        out.set(key, [KEPT, KEPT]);
        continue;
      }
      const comparison = compareRow(this.#target, this.#schema, image, rows.get(key));
      if (comparison.kind !== 'equal') out.set(key, [comparison, `${imageSignature(image)}|${JSON.stringify(comparison)}`]);
    }
    return out;
  }

  async #repair(differences: ReadonlyArray<[string, Difference]>): Promise<void> {
    // The stale records first: the library's re-capture would remove them itself, uncounted in recordsRemoved.
    await this.#forgetStaleRecords();
    const images = differences.filter(([, d]) => d.kind !== 'orphan').map(([key]) => key);
    const deletes = differences.filter(([, d]) => d.kind === 'orphan').map(([key]) => key);
    for (const [fn, keys] of [[LibraryFunction.backfill, images], [LibraryFunction.deleteMissing, deletes]] as const) {
      for (let i = 0; i < keys.length; i += REPAIR_PAGE) {
        const counts = await recaptureSplitting(this.#redis, this.#target, fn, keys.slice(i, i + REPAIR_PAGE));
        this.#report.repaired += counts.captured;
        for (const key of counts.killed) addExample(this.#report.notRepaired, key);
      }
    }
  }

  /** True when the key's divergence record holds; a record that does not is noted stale. */
  #kept(key: string, image: HashImage, records: ReadonlyMap<string, string>): boolean {
    const record = records.get(key);
    if (record === undefined) return false;
    if (recordHolds(record, fieldsOf(image))) return true;
    this.#staleRecords.add(key);
    return false;
  }

  /** With `repair`: the library removes the stale records noted (those that still are stale when it looks). */
  async #forgetStaleRecords(): Promise<void> {
    const keys = [...this.#staleRecords];
    this.#staleRecords = new Set();
    if (this.#options.repair !== true) return;
    for (let i = 0; i < keys.length; i += REPAIR_PAGE) this.#report.recordsRemoved += await this.#redis.forgetDivergent(this.#target, keys.slice(i, i + REPAIR_PAGE));
  }

  /** Rows of the keys that have a valid id, by hash key. */
  async #rowsByKey(keys: readonly string[]): Promise<Map<string, TargetRow>> {
    const ids = keys.map((key) => keyValuesOf(this.#target, key)).filter((id): id is string[] => id !== null);
    const rows = await this.#mysql.rowsOf(this.#target, ids);
    return new Map(rows.map((row) => [keyOfRow(this.#target, row.keyValues), row]));
  }

  #showProgress(): void {
    const r = this.#report;
    this.#progress.update(() => `verify ${r.writer}: ${comparedPart(r.keys, r.rows, !this.#target.keepsRowsWithoutHash)}, ${differenceCount(r)} difference(s), ${perSecond(r.keys + r.rows, Date.now() - this.#started)} keys/s`);
  }
}

function imageSignature(image: HashImage): string {
  if (image === null || image === 'not-hash') return String(image);
  return [...image].map(([field, value]) => `${field}=${value === null ? '-' : value.toString('hex')}`).join(',');
}
