import { describe, expect, it } from 'vitest';
import type { RowShape, RowSize } from './row-encoding.js';
import { StatementPlanner, chunkRows, firstStatementRows, isPreparedSize } from './statement-planner.js';
import { statementSql } from './statement-sql.js';

const shape = (keys: string[], columns: string[]): RowShape => ({ keyColumns: keys, columns, source: [], binary: [], checks: [], upsertGroup: `t|${keys}|${columns}`, deleteGroup: `t|${keys}|` });
const row = (name: string, textBytes = 10): RowSize & { name: string } => ({ name, textBytes, rawBytes: textBytes });

describe('StatementPlanner', () => {
  it('groups rows by shape, deletes first, each group in first-seen order', () => {
    const planner = new StatementPlanner<ReturnType<typeof row>>();
    const ab = shape(['id'], ['a', 'b']);
    const a = shape(['id'], ['a']);
    const add = (op: 'upsert' | 'delete', s: RowShape, name: string) => {
      const group = planner.group(op, 't', s);
      group.values.push(`${name}.id`, ...(op === 'delete' ? [] : s.columns.map((c) => `${name}.${c}`)));
      group.rows.push(row(name));
    };
    add('upsert', ab, 'u1');
    add('delete', ab, 'd1');
    add('upsert', a, 'u2');
    add('upsert', ab, 'u3');
    add('delete', a, 'd2'); // deletes of one table and key share a statement whatever the columns
    expect(planner.groups().map((g) => [g.op, g.columns, g.rows.map((r) => r.name), g.values])).toEqual([
      ['delete', [], ['d1', 'd2'], ['d1.id', 'd2.id']],
      ['upsert', ['a', 'b'], ['u1', 'u3'], ['u1.id', 'u1.a', 'u1.b', 'u3.id', 'u3.a', 'u3.b']],
      ['upsert', ['a'], ['u2'], ['u2.id', 'u2.a']],
    ]);
  });
});

describe('chunkRows', () => {
  it('cuts at maxRows and before maxBytes would be passed; a larger row stands alone', () => {
    const rows = [row('a', 4), row('b', 4), row('c', 4), row('d', 20), row('e', 1)];
    expect(chunkRows(rows, 2, 10).map((c) => rows.slice(c.from, c.to).map((r) => r.name))).toEqual([['a', 'b'], ['c'], ['d'], ['e']]);
    expect(chunkRows(rows, 10, 100)).toEqual([{ from: 0, to: 5 }]);
    expect(chunkRows([], 10, 100)).toEqual([]);
  });
});

describe('prepared statement sizes', () => {
  it('prepares maxRows and the powers of two from 64 below it, within 65535 parameters, and nothing else', () => {
    const sizes = Array.from({ length: 1000 }, (_, i) => i + 1).filter((n) => isPreparedSize(n, 4, 1000));
    expect(sizes).toEqual([64, 128, 256, 512, 1000]);
    expect(isPreparedSize(1000, 70, 1000)).toBe(false); // 70,000 parameters
    expect(isPreparedSize(512, 70, 1000)).toBe(true);
  });

  it('sends a chunk as its largest prepared size first, the rest after; a small one whole', () => {
    expect(firstStatementRows(1000, 4, 1000)).toBe(1000);
    expect(firstStatementRows(999, 4, 1000)).toBe(512);
    expect(firstStatementRows(200, 4, 1000)).toBe(128);
    expect(firstStatementRows(63, 4, 1000)).toBe(63);
    expect(firstStatementRows(1000, 70, 1000)).toBe(512);
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
