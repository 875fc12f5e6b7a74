/**
 * The statement planner, pure: encoded rows in, statements out. Rows are grouped by statement shape (table,
 * key columns, columns: rowShape's group ids), deletes before upserts (a row deleted and another inserted with
 * the same secondary unique value must not collide), each group in first-seen order; then each group is cut
 * into statements of at most `maxRows` rows and about `maxBytes` bytes of values (a single larger row is a
 * statement of its own).
 *
 * @internal
 */
import type { EncodedRow, RowShape } from './row-encoding.js';
import type { StatementGroup } from './statement-sql.js';

export class StatementPlanner<R extends EncodedRow> {
  readonly #deletes = new Map<string, StatementGroup<R>>();
  readonly #upserts = new Map<string, StatementGroup<R>>();

  /** Adds one row (key values only for a delete) of `table` in `shape`. */
  add(op: 'upsert' | 'delete', table: string, shape: RowShape, row: R): void {
    const isDelete = op === 'delete';
    const id = isDelete ? shape.deleteGroup : shape.upsertGroup;
    const groups = isDelete ? this.#deletes : this.#upserts;
    let group = groups.get(id);
    if (group === undefined) {
      group = { op, table, keyColumns: shape.keyColumns, columns: isDelete ? [] : shape.columns, rows: [] };
      groups.set(id, group);
    }
    group.rows.push(row);
  }

  /** The groups, deletes first. */
  groups(): StatementGroup<R>[] {
    return [...this.#deletes.values(), ...this.#upserts.values()];
  }
}

/** A group's rows cut into statements of at most `maxRows` rows and `maxBytes` bytes of text values. */
export function chunkRows<R extends EncodedRow>(rows: readonly R[], maxRows: number, maxBytes: number): R[][] {
  const chunks: R[][] = [];
  let current: R[] = [];
  let bytes = 0;
  for (const row of rows) {
    if (current.length > 0 && (current.length >= maxRows || bytes + row.textBytes > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(row);
    bytes += row.textBytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
