/**
 * MysqlBatchWriter against the real local MariaDB: coalescing, multi-row upserts and deletes, composite keys,
 * exactly-once replays, strict-mode rejections isolated by bisection, several logs' batches in one transaction
 * (writeMany), awkward values, retryable failures.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';
import { parseConfig, type WriteBehindConfig } from '../../src/shared/config.js';
import { ConfigError } from '../../src/shared/errors.js';
import { MysqlBatchWriter } from '../../src/worker/mysql/mysql-batch-writer.js';
import { createMysqlPool, type MysqlPool, type MysqlSession } from '../../src/worker/mysql/mysql-pool.js';
import { MysqlWriteError } from '../../src/worker/mysql/mysql-write-error.js';
import type { WriteBatch } from '../../src/worker/batch-writer.js';
import type { CaptureRecord } from '../../src/worker/capture-record.js';
import { captureRecord, person, personDeleted } from './worker-helpers.js';

function config(extra: Record<string, unknown> = {}): WriteBehindConfig {
  const result = parseConfig({
    name: 'WriteBehind',
    writers: [
      { name: 'Persons', keysPrefix: 'person', table: 'persons', primaryKey: 'person_id', mappings: { first_name: 'first', last_name: 'last', age: 'age' } },
      { name: 'Seats', keysPrefix: 'seat', table: 'seats', primaryKey: ['flight', 'seat'], mappings: { passenger: 'passenger' } },
      { name: 'Blobs', keysPrefix: 'blob', table: 'blobs', primaryKey: 'id', mappings: { data: 'data', note: 'note' } },
    ],
    ...extra,
  });
  if (!result.ok) throw new Error(result.message);
  return result.config;
}

function batch(records: CaptureRecord[], to = records.at(-1)?.id ?? '1000-0'): WriteBatch {
  return { writer: 'Persons', stream: 'wb:changes:{Persons}', descriptorId: '1-0', from: '0-0', to, records };
}

let db: TestDatabase;
let writer: MysqlBatchWriter;

beforeAll(async () => {
  db = await createTestDatabase('writer');
  await db.query(`CREATE TABLE persons (person_id VARCHAR(32) PRIMARY KEY, first VARCHAR(10) NOT NULL DEFAULT '', last VARCHAR(50), age INT,
    applied INT NOT NULL DEFAULT 0)`);
  await db.query('CREATE TABLE seats (flight VARCHAR(10), seat VARCHAR(4), passenger VARCHAR(50), PRIMARY KEY (flight, seat))');
  await db.query('CREATE TABLE blobs (id INT PRIMARY KEY, data BLOB, note TEXT)');
  writer = new MysqlBatchWriter({ pool: createMysqlPool({ url: db.url }), config: config({ exactlyOnceTable: 'wb_exactly_once' }), maxRowsPerStatement: 4 });
  await writer.prepare();
});

afterEach(async () => {
  await db.query('DELETE FROM persons');
  await db.query('DELETE FROM seats');
  await db.query('DELETE FROM blobs');
  await db.query('DELETE FROM wb_exactly_once');
});

afterAll(async () => {
  await writer.close();
  await db.drop();
});

const rows = (sql: string) => db.query<Array<Record<string, unknown>>>(sql);

describe('MysqlBatchWriter', () => {
  it('coalesces per row (last change wins, deletes included) and writes upserts and deletes', async () => {
    await db.query("INSERT INTO persons (person_id, first) VALUES ('9', 'Old')");
    const result = await writer.write(batch([
      person('1', 1, { first: 'James', last: 'Bond', age: '42' }),
      person('2', 2, { first: 'Eve', last: null, age: null }),
      person('1', 3, { first: 'Jimmy', last: 'Bond', age: '43' }),
      personDeleted('2', 4),
      personDeleted('9', 5),
      person('3', 6, { first: 'Q', last: null, age: '80' }),
      personDeleted('3', 7),
      person('3', 8, { first: 'Q2', last: null, age: '81' }),
    ]));
    expect(result.rejected).toEqual([]);
    expect(result.rows).toBe(4);
    expect(await rows('SELECT person_id, first, last, age FROM persons ORDER BY person_id')).toEqual([
      { person_id: '1', first: 'Jimmy', last: 'Bond', age: 43 },
      { person_id: '3', first: 'Q2', last: null, age: 81 },
    ]);
  });

  it('writes many rows in chunked multi-row statements', async () => {
    const records = Array.from({ length: 50 }, (_, i) => person(String(i), i + 1, { first: `p${i}`, last: null, age: String(i) }));
    expect((await writer.write(batch(records))).rows).toBe(50);
    expect(await rows('SELECT COUNT(*) AS n, SUM(age) AS s FROM persons')).toEqual([{ n: 50, s: '1225' }]);
  });

  it('upserts and deletes rows with composite primary keys', async () => {
    const seat = (seq: number, flight: string, s: string, passenger: string | null, op: 'u' | 'd' = 'u') =>
      captureRecord(`1000-${seq}`, { op, key: `seat:${flight}:${s}`, table: 'seats', keys: { flight, seat: s }, ...(op === 'u' ? { columns: { passenger } } : {}) });
    await writer.write(batch([seat(1, 'BA1', '1A', 'Ann'), seat(2, 'BA1', '1B', 'Bob'), seat(3, 'BA2', '1A', 'Cy')]));
    await writer.write(batch([seat(4, 'BA1', '1A', null, 'd'), seat(5, 'BA2', '1A', null, 'd'), seat(6, 'BA1', '1B', 'Bea')]));
    expect(await rows('SELECT flight, seat, passenger FROM seats')).toEqual([{ flight: 'BA1', seat: '1B', passenger: 'Bea' }]);
  });

  it('skips a replayed batch with the exactly-once cursor, comparing ids as numbers', async () => {
    await db.query('CREATE TRIGGER persons_applied BEFORE UPDATE ON persons FOR EACH ROW SET NEW.applied = OLD.applied + 1');
    try {
      const first = batch([captureRecord('9-5', { key: 'person:1', table: 'persons', keys: { person_id: '1' }, columns: { first: 'A' } })]);
      expect((await writer.write(first)).rows).toBe(1);
      const replay = await writer.write(first);
      expect(replay.rows).toBe(0);
      expect(replay.alreadyWritten.map((r) => r.id)).toEqual(['9-5']);
      // 10-0 > 9-5 numerically although '10-0' < '9-5' as strings.
      const next = batch([captureRecord('10-0', { key: 'person:1', table: 'persons', keys: { person_id: '1' }, columns: { first: 'B' } })]);
      expect((await writer.write(next)).rows).toBe(1);
      expect(await rows('SELECT first, applied FROM persons')).toEqual([{ first: 'B', applied: 1 }]);
      expect(await rows('SELECT id, val FROM wb_exactly_once')).toEqual([{ id: 'wb:changes:{Persons}', val: '10-0' }]);
    } finally {
      await db.query('DROP TRIGGER persons_applied');
    }
  });

  it('writeMany: batches of several logs in one transaction, each log\'s cursor moved and its replay skipped, a bad row isolated to its own batch', async () => {
    await db.query('CREATE TRIGGER persons_applied BEFORE UPDATE ON persons FOR EACH ROW SET NEW.applied = OLD.applied + 1');
    try {
      const ofLog = (log: string, records: CaptureRecord[]): WriteBatch => ({ ...batch(records), stream: `wb:changes:Persons:${log}`, descriptorId: `d${log}` });
      const a = ofLog('a', [person('1', 1, { first: 'A1', last: null, age: '1' }), person('2', 2, { first: 'A2', last: null, age: '2' })]);
      const b = ofLog('b', [person('3', 3, { first: 'much too long for ten', last: null, age: '3' }), person('4', 4, { first: 'B4', last: null, age: '4' })]);
      const seen: number[] = [];
      const first = await writer.writeMany([a, b], { beforeCommit: async (results) => void seen.push(results.length) });
      expect(seen).toEqual([2]);
      expect(first.results.map((r) => r.rows)).toEqual([2, 1]);
      expect(first.results[0]!.rejected).toEqual([]);
      expect(first.results[1]!.rejected.map((r) => r.record.key)).toEqual(['person:3']);
      expect(await rows('SELECT person_id FROM persons ORDER BY person_id')).toEqual(['1', '2', '4'].map((person_id) => ({ person_id })));
      expect(await rows('SELECT id, val FROM wb_exactly_once ORDER BY id')).toEqual([{ id: 'wb:changes:Persons:a', val: '1000-2' }, { id: 'wb:changes:Persons:b', val: '1000-4' }]);
      // Log a's batch again (a replay after a crash before `committed`) beside log c's first: a is skipped, c written.
      const c = ofLog('c', [person('5', 5, { first: 'C5', last: null, age: '5' })]);
      const again = await writer.writeMany([a, c]);
      expect(again.results.map((r) => [r.rows, r.replayed, r.alreadyWritten.length])).toEqual([[0, true, 2], [1, false, 0]]);
      expect(await rows('SELECT person_id, applied FROM persons ORDER BY person_id')).toEqual([['1', 0], ['2', 0], ['4', 0], ['5', 0]].map(([person_id, applied]) => ({ person_id, applied })));
      // A veto rolls back every log's rows and cursors.
      const d = ofLog('d', [person('6', 6, { first: 'D6', last: null, age: '6' })]);
      const e = ofLog('e', [person('7', 7, { first: 'E7', last: null, age: '7' })]);
      expect((await writer.writeMany([d, e], { beforeCommit: async () => ({ veto: 'lost' }) })).veto).toBe('lost');
      expect(await rows("SELECT person_id FROM persons WHERE person_id IN ('6', '7')")).toEqual([]);
      expect(await rows("SELECT id FROM wb_exactly_once WHERE id IN ('wb:changes:Persons:d', 'wb:changes:Persons:e')")).toEqual([]);
    } finally {
      await db.query('DROP TRIGGER persons_applied');
    }
  });

  it('isolates rows strict mode (or the number check) rejects and commits the rest', async () => {
    const records = [
      person('1', 1, { first: 'ok1', last: null, age: '1' }),
      person('2', 2, { first: 'much too long for ten', last: null, age: '2' }),
      person('3', 3, { first: 'ok3', last: null, age: 'forty' }),
      person('4', 4, { first: 'ok4', last: null, age: '4' }),
      person('5', 5, { first: null, last: 'x', age: '5' }),
      person('6', 6, { first: 'ok6', last: null, age: '99999999999' }),
      person('7', 7, { first: 'ok7', last: null, age: '7' }),
      person('8', 8, { first: 'ok8', last: null, age: '' }),
      person('9', 9, { first: 'ok9', last: null, age: '9' }),
    ];
    const result = await writer.write(batch(records));
    expect(result.rows).toBe(4);
    expect(await rows('SELECT person_id FROM persons ORDER BY person_id')).toEqual(['1', '4', '7', '9'].map((person_id) => ({ person_id })));
    const byId = new Map(result.rejected.map((r) => [r.record.key, r.error]));
    expect([...byId.keys()].sort()).toEqual(['person:2', 'person:3', 'person:5', 'person:6', 'person:8']);
    const tooLong = byId.get('person:2')!;
    expect(tooLong).toBeInstanceOf(MysqlWriteError);
    expect(tooLong.context).toMatchObject({ errno: 1406, sqlState: '22001', table: 'persons', recordId: '1000-2' });
    expect(byId.get('person:5')!.context['errno']).toBe(1048);
    // Numbers are checked against their column before MySQL sees them (it would round some silently).
    expect(byId.get('person:3')!.message).toBe("column 'age': 'forty' is not a number");
    expect(byId.get('person:6')!.message).toContain("'99999999999' is out of the column's range");
    expect(byId.get('person:6')!.context).toMatchObject({ table: 'persons', recordId: '1000-6', column: 'age' });
    expect(tooLong.toJSON()).toMatchObject({ code: 'MYSQL_WRITE', cause: { errno: 1406 } });
  });

  it('sends large chunks as prepared statements and still isolates the rows they reject', async () => {
    // 200 rows: 128 prepared, then 72 as text; one bad row in each part.
    const statements: string[] = [];
    const inner = createMysqlPool({ url: db.url });
    const pool: MysqlPool = {
      session: async () => {
        const s = await inner.session();
        const seen = (kind: string, sql: string) => statements.push(`${kind} ${(sql.match(/\(\?,\?,\?,\?\)/g) ?? []).length}`);
        return {
          threadId: s.threadId,
          query: (sql, values) => (/^INSERT INTO `persons`/.test(sql) && seen('query', sql), s.query(sql, values)),
          execute: (sql, values) => (seen('execute', sql), s.execute(sql, values)),
          release: () => s.release(),
          destroy: () => s.destroy(),
        } as MysqlSession;
      },
      end: () => inner.end(),
    };
    const large = new MysqlBatchWriter({ pool, config: config() });
    await large.prepare();
    try {
      const records = Array.from({ length: 200 }, (_, i) =>
        person(String(i), i + 1, { first: i === 100 || i === 150 ? 'much too long for ten' : `p${i}`, last: null, age: String(i) }));
      const result = await large.write(batch(records));
      expect(result.rows).toBe(198);
      expect(result.rejected.map((r) => r.record.key).sort()).toEqual(['person:100', 'person:150']);
      expect(await rows('SELECT COUNT(*) AS n FROM persons')).toEqual([{ n: 198 }]);
      // The first statement of each part carried all its rows: prepared for 128, text for the 72 left.
      expect(statements.slice(0, 1)).toEqual(['execute 128']);
      expect(statements).toContain('query 72');
    } finally {
      await large.close();
    }
  });

  it('stores quotes, SQL-ish strings, unicode and binary values exactly', async () => {
    const binary = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x27, 0x5c, 0x22]);
    const sqlish = "Robert'); DROP TABLE persons;-- \\ \" ` %_";
    const unicode = 'Zoë 🐍 ☃ 日本';
    const r = (seq: number, id: string, data: Buffer | null, note: string | Buffer | null) =>
      captureRecord(`1000-${seq}`, { key: `blob:${id}`, table: 'blobs', keys: { id }, columns: { data, note } });
    const result = await writer.write(batch([r(1, '1', binary, sqlish), r(2, '2', null, unicode), r(3, '3', Buffer.alloc(0), Buffer.from([0xc3, 0x28]))]));
    expect(result.rows).toBe(2);
    expect(result.rejected.map((x) => [x.record.key, x.error.message])).toEqual([['blob:3', "value of column 'note' is not valid UTF-8 and the column is not binary"]]);
    const stored = await rows('SELECT id, data, note FROM blobs ORDER BY id');
    expect(stored).toEqual([{ id: 1, data: binary, note: sqlish }, { id: 2, data: null, note: unicode }]);
    expect(await rows("SHOW TABLES LIKE 'persons'")).toHaveLength(1);
  });

  it('rejects a record for a table outside the config and one with a hostile column name', async () => {
    const result = await writer.write(batch([
      captureRecord('1000-1', { key: 'x:1', table: 'mysql.user', keys: { id: '1' }, columns: { a: 'b' } }),
      captureRecord('1000-2', { key: 'person:1', table: 'persons', keys: { person_id: '1' }, columns: { 'first`; DROP': 'b' } }),
      person('2', 3, { first: 'fine', last: null, age: null }),
    ]));
    expect(result.rows).toBe(1);
    expect(result.rejected.map((r) => r.record.id)).toEqual(['1000-1', '1000-2']);
  });

  it('a veto from beforeCommit rolls the batch back (rows and cursor) and write() resolves with it', async () => {
    const records = [person('1', 1, { first: 'A', last: null, age: null })];
    const outcome = await writer.write(batch(records), { beforeCommit: async () => ({ veto: 'taken' }) });
    expect(outcome.veto).toBe('taken');
    expect(await rows('SELECT * FROM persons')).toEqual([]);
    expect(await rows('SELECT * FROM wb_exactly_once')).toEqual([]);
    // Nothing was committed: the same batch writes in full afterwards, not skipped as a replay.
    const again = await writer.write(batch(records));
    expect([again.rows, again.replayed, again.veto]).toEqual([1, false, undefined]);
  });

  it('throws a retryable error and commits nothing when the connection is killed before COMMIT', async () => {
    const sessions: MysqlSession[] = [];
    const inner = createMysqlPool({ url: db.url });
    const pool: MysqlPool = { session: async () => { const s = await inner.session(); sessions.push(s); return s; }, end: () => inner.end() };
    const killable = new MysqlBatchWriter({ pool, config: config({ exactlyOnceTable: 'wb_exactly_once' }) });
    await killable.prepare();
    const records = [person('1', 1, { first: 'A', last: null, age: null })];
    const error = await killable.write(batch(records), {
      beforeCommit: async () => { await db.query(`KILL ${sessions.at(-1)!.threadId}`); },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MysqlWriteError);
    expect((error as MysqlWriteError).retryable).toBe(true);
    expect((error as MysqlWriteError).kind).toBe('retryable');
    expect(await rows('SELECT * FROM persons')).toEqual([]);
    // The same batch succeeds on retry, with a fresh connection.
    expect((await killable.write(batch(records))).rows).toBe(1);
    await killable.close();
  });

  it('classifies a lock wait timeout as retryable and leaves nothing half-written', async () => {
    await db.query("INSERT INTO persons (person_id, first) VALUES ('locked', 'old')");
    const inner = createMysqlPool({ url: db.url });
    const pool: MysqlPool = {
      session: async () => { const s = await inner.session(); await s.query('SET SESSION innodb_lock_wait_timeout = 1'); return s; },
      end: () => inner.end(),
    };
    const impatient = new MysqlBatchWriter({ pool, config: config() });
    await impatient.prepare();
    const holder = await db.pool.getConnection();
    try {
      await holder.query('START TRANSACTION');
      await holder.query("SELECT * FROM persons WHERE person_id = 'locked' FOR UPDATE");
      const error = await impatient.write(batch([person('free', 1, { first: 'new', last: null, age: null }), person('locked', 2, { first: 'new', last: null, age: null })])).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MysqlWriteError);
      expect((error as MysqlWriteError).kind).toBe('retryable');
      expect((error as MysqlWriteError).context['errno']).toBe(1205);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
      await impatient.close();
    }
    expect(await rows("SELECT person_id, first FROM persons ORDER BY person_id")).toEqual([{ person_id: 'locked', first: 'old' }]);
  });

  it('reports a table dropped at run time as a (retryable) schema error', async () => {
    await db.query('CREATE TABLE gone (id INT PRIMARY KEY, v INT)');
    const cfg = parseConfig({ name: 'W', writers: [{ name: 'Gone', keysPrefix: 'g', table: 'gone', primaryKey: 'id', mappings: { v: 'v' } }] });
    if (!cfg.ok) throw new Error(cfg.message);
    const w = new MysqlBatchWriter({ pool: createMysqlPool({ url: db.url }), config: cfg.config });
    await w.prepare();
    await db.query('DROP TABLE gone');
    const error = await w.write(batch([captureRecord('1-1', { key: 'g:1', table: 'gone', keys: { id: '1' }, columns: { v: '1' } })])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MysqlWriteError);
    expect((error as MysqlWriteError).kind).toBe('schema');
    expect((error as MysqlWriteError).retryable).toBe(true);
    await w.close();
  });

  it('refuses to start when the config names a missing table or column, naming them', async () => {
    const cfg = parseConfig({
      name: 'W',
      writers: [
        { name: 'Missing', keysPrefix: 'm', table: 'no_such_table', primaryKey: 'id', mappings: { a: 'a' } },
        { name: 'BadColumn', keysPrefix: 'p', table: 'persons', primaryKey: 'person_id', mappings: { nick: 'nickname' } },
        { name: 'NotUnique', keysPrefix: 's', table: 'seats', primaryKey: 'flight', mappings: { passenger: 'passenger' } },
      ],
    });
    if (!cfg.ok) throw new Error(cfg.message);
    const w = new MysqlBatchWriter({ pool: createMysqlPool({ url: db.url }), config: cfg.config });
    const error = await w.prepare().catch((e: unknown) => e);
    await w.close();
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain("table 'no_such_table' does not exist");
    expect(message).toContain("table 'persons' has no column 'nickname'");
    expect(message).toContain("'flight' of table 'seats' are not its primary key or a unique key");
  });
});
