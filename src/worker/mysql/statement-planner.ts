/**
 * The statement planner, pure: rows in, statements out. Rows are grouped by statement shape (table, key
 * columns, columns: rowShape's group ids), deletes before upserts (a row deleted and another inserted with
 * the same secondary unique value must not collide), each group in first-seen order; then each group is cut
 * into statements of at most `maxRows` rows and about `maxBytes` bytes of values (a single larger row is a
 * statement of its own), and each statement into the sizes that are sent prepared.
 *
 * @internal
 */
import type { RowShape, RowSize } from './row-encoding.js';
import type { StatementGroup } from './statement-sql.js';

export class StatementPlanner<R extends RowSize> {
  readonly #deletes = new Map<string, StatementGroup<R>>();
  readonly #upserts = new Map<string, StatementGroup<R>>();

  /** The group a row (key values only for a delete) of `table` in `shape` goes to: push its values, then the row. */
  group(op: 'upsert' | 'delete', table: string, shape: RowShape): StatementGroup<R> {
    const isDelete = op === 'delete';
    const id = isDelete ? shape.deleteGroup : shape.upsertGroup;
    const groups = isDelete ? this.#deletes : this.#upserts;
    let group = groups.get(id);
    if (group === undefined) {
      group = { op, table, keyColumns: shape.keyColumns, columns: isDelete ? [] : shape.columns, rows: [], values: [] };
      groups.set(id, group);
    }
    return group;
  }

  /** The groups, deletes first. */
  groups(): StatementGroup<R>[] {
    return [...this.#deletes.values(), ...this.#upserts.values()];
  }
}

/** Rows [from, to) of a group. */
export interface RowRange {
  readonly from: number;
  readonly to: number;
}

/** A group's rows cut into statements of at most `maxRows` rows and `maxBytes` bytes of text values. */
export function chunkRows(rows: readonly RowSize[], maxRows: number, maxBytes: number): RowRange[] {
  const chunks: RowRange[] = [];
  let from = 0;
  let bytes = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (i > from && (i - from >= maxRows || bytes + row.textBytes > maxBytes)) {
      chunks.push({ from, to: i });
      from = i;
      bytes = 0;
    }
    bytes += row.textBytes;
  }
  if (from < rows.length) chunks.push({ from, to: rows.length });
  return chunks;
}

/** Fewest rows worth a prepared statement: below, the text statement is small, and one per size would be too many. */
const MIN_PREPARED_ROWS = 64;

/** Most parameters of one prepared statement (the protocol counts them in 2 bytes). */
const MAX_PARAMETERS = 65535;

/**
 * Whether a statement of `rows` rows of `width` values is sent prepared: the server then takes the values as
 * they are, instead of parsing them out of the statement's text (the largest share of a big statement's cost
 * on the server, which shares the machine with the worker). Only a few sizes qualify — `maxRows` and the powers
 * of two from MIN_PREPARED_ROWS below it — so a connection holds a bounded number of prepared statements per
 * shape (the server caps them all, max_prepared_stmt_count).
 */
export function isPreparedSize(rows: number, width: number, maxRows: number): boolean {
  if (rows < MIN_PREPARED_ROWS || rows * width > MAX_PARAMETERS) return false;
  return rows === maxRows || (rows < maxRows && (rows & (rows - 1)) === 0);
}

/** The rows of a chunk of `rows` to send as its first statement: the largest prepared size that fits, or all of them (text). */
export function firstStatementRows(rows: number, width: number, maxRows: number): number {
  if (isPreparedSize(rows, width, maxRows)) return rows;
  for (let size = 1 << Math.floor(Math.log2(rows)); size >= MIN_PREPARED_ROWS; size >>= 1) {
    if (isPreparedSize(size, width, maxRows)) return size;
  }
  return rows;
}
