import { describe, expect, it } from 'vitest';
import type { EncodedRow, RowShape } from './row-encoding.js';
import { StatementPlanner, chunkRows } from './statement-planner.js';
import { statementSql } from './statement-sql.js';

const shape = (keys: string[], columns: string[]): RowShape => ({ keyColumns: keys, columns, binary: [], checks: [], upsertGroup: `t|${keys}|${columns}`, deleteGroup: `t|${keys}|` });
const row = (name: string, textBytes = 10): EncodedRow & { name: string } => ({ name, values: [name], textBytes, rawBytes: textBytes });

describe('StatementPlanner', () => {
  it('groups rows by shape, deletes first, each group in first-seen order', () => {
    const planner = new StatementPlanner<ReturnType<typeof row>>();
    const ab = shape(['id'], ['a', 'b']);
    const a = shape(['id'], ['a']);
    planner.add('upsert', 't', ab, row('u1'));
    planner.add('delete', 't', ab, row('d1'));
    planner.add('upsert', 't', a, row('u2'));
    planner.add('upsert', 't', ab, row('u3'));
    planner.add('delete', 't', a, row('d2')); // deletes of one table and key share a statement whatever the columns
    expect(planner.groups().map((g) => [g.op, g.columns, g.rows.map((r) => r.name)])).toEqual([
      ['delete', [], ['d1', 'd2']],
      ['upsert', ['a', 'b'], ['u1', 'u3']],
      ['upsert', ['a'], ['u2']],
    ]);
  });
});

describe('chunkRows', () => {
  it('cuts at maxRows and before maxBytes would be passed; a larger row stands alone', () => {
    const rows = [row('a', 4), row('b', 4), row('c', 4), row('d', 20), row('e', 1)];
    expect(chunkRows(rows, 2, 10).map((c) => c.map((r) => r.name))).toEqual([['a', 'b'], ['c'], ['d'], ['e']]);
    expect(chunkRows(rows, 10, 100).map((c) => c.length)).toEqual([5]);
    expect(chunkRows([], 10, 100)).toEqual([]);
  });
});

describe('statementSql', () => {
  it('writes placeholders only, identifiers quoted', () => {
    expect(statementSql({ op: 'upsert', table: 'db.persons', keyColumns: ['id'], columns: ['first', 'age'] }, 2))
      .toBe('INSERT INTO `db`.`persons` (`id`,`first`,`age`) VALUES (?,?,?),(?,?,?) ON DUPLICATE KEY UPDATE `first`=VALUES(`first`),`age`=VALUES(`age`)');
    expect(statementSql({ op: 'delete', table: 'persons', keyColumns: ['id'], columns: [] }, 3)).toBe('DELETE FROM `persons` WHERE `id` IN (?,?,?)');
    expect(statementSql({ op: 'delete', table: 'seats', keyColumns: ['flight', 'seat'], columns: [] }, 2)).toBe('DELETE FROM `seats` WHERE (`flight`,`seat`) IN ((?,?),(?,?))');
  });
});
