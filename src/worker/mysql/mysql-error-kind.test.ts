import { describe, expect, it } from 'vitest';
import { classifyMysqlError } from './mysql-error-kind.js';

const err = (fields: Record<string, unknown>) => Object.assign(new Error('x'), fields);

describe('classifyMysqlError', () => {
  it.each([
    [{ code: 'PROTOCOL_CONNECTION_LOST', fatal: true }, 'retryable'],
    [{ code: 'ECONNREFUSED' }, 'retryable'],
    [{ errno: 1213, sqlState: '40001' }, 'retryable'], // deadlock
    [{ errno: 1205, sqlState: 'HY000' }, 'retryable'], // lock wait timeout
    [{ errno: 1040, sqlState: '08004' }, 'retryable'], // too many connections
    [{ errno: 1290, sqlState: 'HY000' }, 'retryable'], // read-only
    [{ errno: 1927, sqlState: '70100' }, 'retryable'], // connection killed (MariaDB)
    [{ errno: 1146, sqlState: '42S02' }, 'schema'],
    [{ errno: 1054, sqlState: '42S22' }, 'schema'],
    [{ errno: 1406, sqlState: '22001' }, 'data'],
    [{ errno: 1366, sqlState: '22007' }, 'data'],
    [{ errno: 1048, sqlState: '23000' }, 'data'],
    [{ errno: 1264, sqlState: '22003' }, 'data'],
    [{ errno: 1452, sqlState: '23000' }, 'data'],
    [{ errno: 1062, sqlState: '23000' }, 'data'],
    [{ errno: 4025, sqlState: '23000' }, 'data'],
    [{ errno: 3819, sqlState: 'HY000' }, 'data'],
    [{ errno: 1110, sqlState: '42000' }, 'data'], // column specified twice: no retry can fix it
    [{ errno: 1136, sqlState: '21S01' }, 'data'], // column count does not match
    [{ errno: 1118, sqlState: '42000' }, 'data'], // row size too large
    [{ errno: 9999, sqlState: '22999' }, 'data'], // unknown, but SQLSTATE class 22
    [{ errno: 9999, sqlState: 'HY000' }, 'retryable'], // unknown: never dropped
  ])('%o is %s', (fields, kind) => {
    expect(classifyMysqlError(err(fields))).toBe(kind);
  });

  it('treats anything that is not a MySQL error as retryable', () => {
    expect(classifyMysqlError('boom')).toBe('retryable');
    expect(classifyMysqlError(new Error('boom'))).toBe('retryable');
  });
});
