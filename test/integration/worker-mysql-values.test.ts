/**
 * MysqlBatchWriter against the real local MariaDB, on values MySQL would take with a silent change: key ids
 * that alias another row, numbers rounded to fit their column, rows larger than the server's packet limit,
 * columns named twice in another letter case, and the start-up check of unmapped NOT NULL columns.
 */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';
import { parseConfig, type WriteBehindConfig } from '../../src/shared/config.js';
import { ConfigError } from '../../src/shared/errors.js';
import { MysqlBatchWriter } from '../../src/worker/mysql/mysql-batch-writer.js';
import { MysqlWriteError } from '../../src/worker/mysql/mysql-write-error.js';
import { createMysqlPool, type MysqlPool } from '../../src/worker/mysql/mysql-pool.js';
import type { BatchWriteResult, WriteBatch } from '../../src/worker/batch-writer.js';
import type { CaptureRecord } from '../../src/worker/capture-record.js';
import { captureRecord } from './worker-helpers.js';

function config(writers: Array<Record<string, unknown>>): WriteBehindConfig {
  const result = parseConfig({ name: 'WriteBehind', writers });
  if (!result.ok) throw new Error(result.message);
  return result.config;
}

const WRITERS = [
  { name: 'Users', keysPrefix: 'user', table: 'users', primaryKey: 'user_id', mappings: { name: 'name', score: 'score', price: 'price', born: 'born', ratio: 'ratio' } },
  { name: 'Counters', keysPrefix: 'counter', table: 'counters', primaryKey: 'id', mappings: { n: 'n' } },
  { name: 'Days', keysPrefix: 'day', table: 'days', primaryKey: 'day', mappings: { v: 'v' } },
  { name: 'Prices', keysPrefix: 'price', table: 'prices', primaryKey: 'p', mappings: { v: 'v' } },
  { name: 'Bigs', keysPrefix: 'big', table: 'bigs', primaryKey: 'id', mappings: { data: 'data', note: 'note' } },
];

let db: TestDatabase;
let writer: MysqlBatchWriter;
let seq = 0;

beforeAll(async () => {
  db = await createTestDatabase('values');
  await db.query('CREATE TABLE users (user_id BIGINT PRIMARY KEY, name VARCHAR(50), score INT, price DECIMAL(6,2), born DATE, ratio DOUBLE)');
  await db.query('CREATE TABLE counters (id BIGINT UNSIGNED PRIMARY KEY, n TINYINT UNSIGNED)');
  await db.query('CREATE TABLE days (day DATE PRIMARY KEY, v INT)');
  await db.query('CREATE TABLE prices (p DECIMAL(6,2) PRIMARY KEY, v INT)');
  await db.query('CREATE TABLE bigs (id INT PRIMARY KEY, data LONGBLOB, note LONGTEXT)');
  writer = new MysqlBatchWriter({ pool: createMysqlPool({ url: db.url }), config: config(WRITERS) });
  await writer.prepare();
});

afterEach(async () => {
  for (const table of ['users', 'counters', 'days', 'prices', 'bigs']) await db.query(`DELETE FROM ${table}`);
});

afterAll(async () => {
  await writer.close();
  await db.drop();
});

function record(table: string, key: Record<string, string>, columns: Record<string, string | Buffer | null> | 'delete'): CaptureRecord {
  seq += 1;
  const id = Object.values(key).join(':');
  const spec = { key: `${table}:${id}`, table, keys: key };
  return captureRecord(`2000-${seq}`, columns === 'delete' ? { ...spec, op: 'd' } : { ...spec, columns });
}

function write(records: CaptureRecord[]): Promise<BatchWriteResult> {
  const batch: WriteBatch = { writer: 'Users', stream: 'wb:changes:{Users}', descriptorId: '1-0', from: '0-0', to: records.at(-1)!.id, records };
  return writer.write(batch);
}

/** Rejected records' keys, each with its reason. */
const rejections = (result: BatchWriteResult) => result.rejected.map((r) => [r.record.key, r.error.message] as const);
const rows = (sql: string, params: unknown[] = []) => db.query<Array<Record<string, unknown>>>(sql, params);

/** What must become of one case of a value table. */
type Outcome = 'written' | 'rejected';

/**
 * Writes one record per case (made from the case's input by `make`) in one batch, and expects exactly the
 * cases marked 'rejected' to be rejected, in order; returns the reasons given for them.
 */
async function writeCases<T>(cases: ReadonlyArray<readonly [T, Outcome]>, make: (input: T) => CaptureRecord): Promise<string[]> {
  const made = cases.map(([input, outcome]) => [make(input), outcome] as const);
  const result = await write(made.map(([r]) => r));
  expect(result.rejected.map((r) => r.record.key)).toEqual(made.filter(([, outcome]) => outcome === 'rejected').map(([r]) => r.key));
  return result.rejected.map((r) => r.error.message);
}

describe('key ids that are not the canonical text of their column', () => {
  it('integer keys: "2.0", " 1", "01", "1abc" (upsert or delete) never reach rows 1 and 2', async () => {
    await write([record('users', { user_id: '1' }, { name: 'one' }), record('users', { user_id: '2' }, { name: 'two' })]);
    const reasons = await writeCases([
      ['2.0', 'rejected'], [' 1', 'rejected'], ['01', 'rejected'], ['1abc', 'rejected'], ['-0', 'rejected'],
      ['9223372036854775808', 'rejected'], ['-9223372036854775808', 'written'], ['3', 'written'],
    ], (id) => record('users', { user_id: id }, { name: `as ${id}` }));
    expect(reasons[0]).toContain("key column 'user_id'");
    expect(rejections(await write([record('users', { user_id: '1abc' }, 'delete')])).map(([key]) => key)).toEqual(['users:1abc']);
    expect(await rows('SELECT CAST(user_id AS CHAR) AS user_id, name FROM users ORDER BY user_id')).toEqual([
      { user_id: '-9223372036854775808', name: 'as -9223372036854775808' },
      { user_id: '1', name: 'one' },
      { user_id: '2', name: 'two' },
      { user_id: '3', name: 'as 3' },
    ]);
  });

  it('UNSIGNED keys take 0..2^64-1 and nothing negative', async () => {
    await writeCases([['18446744073709551615', 'written'], ['18446744073709551616', 'rejected'], ['-1', 'rejected'], ['0', 'written']], (id) => record('counters', { id }, { n: '1' }));
    expect(await rows('SELECT CAST(id AS CHAR) AS id FROM counters ORDER BY id')).toEqual([{ id: '0' }, { id: '18446744073709551615' }]);
  });

  it('DATE and DECIMAL keys take only the text MySQL shows for them', async () => {
    await write([record('days', { day: '2024-01-05' }, { v: '1' }), record('prices', { p: '1.50' }, { v: '1' })]);
    await writeCases([['2024-1-5', 'rejected'], ['2024-01-05 00:00:00', 'rejected'], ['2024-02-30', 'rejected'], ['2024-02-29', 'written']], (day) => record('days', { day }, { v: '2' }));
    await writeCases([['1.5', 'rejected'], ['01.50', 'rejected'], ['-0.00', 'rejected'], ['-2.25', 'written']], (p) => record('prices', { p }, { v: '2' }));
    expect(await rows('SELECT CAST(day AS CHAR) AS day, v FROM days ORDER BY day')).toEqual([{ day: '2024-01-05', v: 1 }, { day: '2024-02-29', v: 2 }]);
    expect(await rows('SELECT p, v FROM prices ORDER BY p')).toEqual([{ p: '-2.25', v: 2 }, { p: '1.50', v: 1 }]);
  });
});

describe('values that do not fit their column exactly', () => {
  it('are rejected instead of rounded; exact ones in any decimal notation are written', async () => {
    let userId = 0;
    const reasons = await writeCases<Record<string, string>>([
      [{ score: '16.5' }, 'rejected'],
      [{ price: '1.234' }, 'rejected'],
      [{ price: '12345.6' }, 'rejected'],
      [{ score: '2147483648' }, 'rejected'],
      [{ score: '1e3' }, 'written'],
      [{ score: '17', price: '1.230', ratio: '16.5' }, 'written'],
      [{ score: '-17.000', price: '-0.5' }, 'written'],
      [{ score: '' }, 'rejected'],
    ], (columns) => record('users', { user_id: String(++userId) }, columns));
    expect(reasons[0]).toContain("column 'score'");
    expect(await rows('SELECT CAST(user_id AS CHAR) AS user_id, score, price, ratio FROM users ORDER BY user_id')).toEqual([
      { user_id: '5', score: 1000, price: null, ratio: null },
      { user_id: '6', score: 17, price: '1.23', ratio: 16.5 },
      { user_id: '7', score: -17, price: '-0.50', ratio: null },
    ]);
  });
});

describe('rows near the server packet limit', () => {
  it('a binary value over half of max_allowed_packet is written whole (not doubled as hex); a row over the limit is rejected, the rest commits', async () => {
    const [{ packet }] = await rows('SELECT @@max_allowed_packet AS packet') as [{ packet: number }];
    const fits = Buffer.alloc(Math.floor(Number(packet) * 0.6), 0xab);
    fits[0] = 0;
    fits[1] = 0x27; // a quote
    const tooLarge = Buffer.alloc(Number(packet) + 1024, 0xcd);
    const result = await write([
      record('bigs', { id: '1' }, { data: fits, note: 'fits' }),
      record('bigs', { id: '2' }, { data: tooLarge, note: 'too large' }),
      record('bigs', { id: '3' }, { data: Buffer.from('small'), note: 'small' }),
    ]);
    expect(result.rejected.map((r) => r.record.key)).toEqual(['bigs:2']);
    expect(rejections(result)[0]![1]).toContain('max_allowed_packet');
    expect(await rows('SELECT id, LENGTH(data) AS bytes, MD5(data) = ? AS same, note FROM bigs ORDER BY id', [createHash('md5').update(fits).digest('hex')])).toEqual([
      { id: 1, bytes: fits.length, same: 1, note: 'fits' },
      { id: 3, bytes: 5, same: 0, note: 'small' },
    ]);
  });
  it('a max_allowed_packet lowered while running: the first attempt fails retryably, the retry rejects the row instead of failing again', async () => {
    const [{ packet }] = await rows('SELECT @@GLOBAL.max_allowed_packet AS packet') as [{ packet: number }];
    const inner = createMysqlPool({ url: db.url });
    // Every session on a new connection, so that one opened after SET GLOBAL gets the lower limit.
    const pool: MysqlPool = { session: async () => { const s = await inner.session(); return { ...s, release: () => s.destroy() }; }, end: () => inner.end() };
    const w = new MysqlBatchWriter({ pool, config: config(WRITERS) });
    await w.prepare(); // learns the current limit
    const lowered = 4 * 1024 * 1024;
    const value = Buffer.alloc(lowered + 1024 * 1024, 0x5a); // raw, over the lowered limit, under the one it learnt
    const batch = (): WriteBatch => ({ writer: 'Bigs', stream: 'wb:changes:{Bigs}', descriptorId: '1-0', from: '0-0', to: '4000-2', records: [
      captureRecord('4000-1', { key: 'bigs:1', table: 'bigs', keys: { id: '1' }, columns: { data: value, note: 'big' } }),
      captureRecord('4000-2', { key: 'bigs:2', table: 'bigs', keys: { id: '2' }, columns: { data: Buffer.from('small'), note: 'small' } }),
    ] });
    await db.query(`SET GLOBAL max_allowed_packet = ${lowered}`);
    try {
      const failed = await w.write(batch()).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(MysqlWriteError);
      expect((failed as MysqlWriteError).retryable).toBe(true);
      // 1153, or only a reset connection: the server closes it after refusing the packet.
      expect([1153, -104, undefined]).toContain((failed as MysqlWriteError).context['errno']);
      const result = await w.write(batch());
      expect(result.rejected.map((r) => r.record.key)).toEqual(['bigs:1']);
      expect(result.rejected[0]!.error.message).toContain('max_allowed_packet');
    } finally {
      await db.query(`SET GLOBAL max_allowed_packet = ${Number(packet)}`);
      await w.close();
    }
    expect(await rows('SELECT id, note FROM bigs ORDER BY id')).toEqual([{ id: 2, note: 'small' }]);
  });
});

describe('column names that differ only in letter case', () => {
  it('a record naming one column twice is dead-lettered, not retried forever', async () => {
    const result = await write([
      captureRecord('3000-1', { key: 'users:1', table: 'users', keys: { user_id: '1' }, columns: { name: 'a', NAME: 'b' } }),
      record('users', { user_id: '2' }, { name: 'two' }),
    ]);
    expect(result.rejected.map((r) => r.record.key)).toEqual(['users:1']);
    expect(await rows('SELECT CAST(user_id AS CHAR) AS user_id, name FROM users')).toEqual([{ user_id: '2', name: 'two' }]);
  });
});

describe('start-up check', () => {
  it('refuses a table with an unmapped NOT NULL column that has no default, naming it', async () => {
    await db.query(`CREATE TABLE strict_rows (id INT PRIMARY KEY, v INT, must VARCHAR(5) NOT NULL, Other INT NOT NULL,
      fine INT NOT NULL DEFAULT 0, seq INT NOT NULL AUTO_INCREMENT UNIQUE, twice INT AS (v * 2) VIRTUAL, made TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`);
    try {
      const w = new MysqlBatchWriter({ pool: createMysqlPool({ url: db.url }), config: config([{ name: 'Strict', keysPrefix: 's', table: 'strict_rows', primaryKey: 'id', mappings: { v: 'v', other: 'other' } }]) });
      const error = await w.prepare().catch((e: unknown) => e);
      await w.close();
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as ConfigError).message;
      expect(message).toContain("table 'strict_rows' has a NOT NULL column 'must' without a default that is not mapped");
      expect(message).not.toContain("'Other'");
      expect(message).not.toContain("'fine'");
      expect(message).not.toContain("'seq'");
      expect(message).not.toContain("'made'");
    } finally {
      await db.query('DROP TABLE strict_rows');
    }
  });
});
