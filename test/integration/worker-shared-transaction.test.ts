/**
 * SharedTransaction against the real local MariaDB: many concurrent writers (as a cluster's slot-log loops) share
 * transactions without losing or double-counting a row, and one writer's veto (or failed hook) rolls the
 * transaction back for that writer only: the others are written again in the next transaction, and the failed
 * write's retry is written, its cursor unmoved by the rolled-back transaction.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/shared/config.js';
import type { BatchWriter, WriteBatch } from '../../src/worker/batch-writer.js';
import { MysqlBatchWriter } from '../../src/worker/mysql/mysql-batch-writer.js';
import { createMysqlPool } from '../../src/worker/mysql/mysql-pool.js';
import { SharedTransaction } from '../../src/worker/shared-transaction.js';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';
import { captureRecord } from './worker-helpers.js';

let db: TestDatabase;
let mysql: MysqlBatchWriter;
/** Transactions committed, and every transaction tried, with the streams in each. */
const committed: string[][] = [];
const tried: string[][] = [];
let counting: BatchWriter;

beforeAll(async () => {
  db = await createTestDatabase('shared_tx');
  await db.query('CREATE TABLE persons (person_id BIGINT PRIMARY KEY, first VARCHAR(64) NOT NULL)');
  const parsed = parseConfig({ name: 'W', writers: [{ name: 'P', keysPrefix: 'person', table: 'persons', primaryKey: 'person_id', mappings: { first_name: 'first' } }], exactlyOnceTable: 'wb_exactly_once' });
  if (!parsed.ok) throw new Error(parsed.message);
  mysql = new MysqlBatchWriter({ pool: createMysqlPool({ url: db.url }), config: parsed.config });
  await mysql.prepare();
  counting = {
    write: (batch, hooks) => mysql.write(batch, hooks),
    writeMany: async (batches, hooks) => {
      tried.push(batches.map((b) => b.stream));
      const outcome = await mysql.writeMany(batches, hooks);
      if (outcome.veto === undefined) committed.push(batches.map((b) => b.stream));
      return outcome;
    },
    close: () => mysql.close(),
  };
});

afterAll(async () => {
  await mysql?.close();
  await db?.drop();
});

/** Log `log`'s batch: the rows `ids`. */
function logBatch(log: number, ids: readonly number[]): WriteBatch {
  const records = ids.map((id, i) => captureRecord(`1000-${i}`, { key: `person:${id}`, table: 'persons', keys: { person_id: String(id) }, columns: { first: `F${id}` } }));
  return { writer: 'P', stream: `wb:changes:P:${log}/16384:{t}`, descriptorId: '1-0', from: '0-0', to: `1000-${ids.length - 1}`, records };
}

describe('SharedTransaction', () => {
  it('64 concurrent writers of 3000 small logs: every row written once, each write counts its own rows, a few dozen transactions', async () => {
    committed.length = 0;
    const shared = new SharedTransaction(counting, 5000);
    const counted: number[] = [];
    await Promise.all(Array.from({ length: 64 }, async (_, lane) => {
      for (let log = lane; log < 3000; log += 64) {
        const result = await shared.write(logBatch(log, log % 2 === 0 ? [2 * log + 1, 2 * log + 2] : [2 * log + 1]));
        counted.push(result.rows);
      }
    }));
    expect(counted.reduce((a, b) => a + b, 0)).toBe(4500);
    expect(Number((await db.query<Array<{ n: number }>>('SELECT COUNT(*) AS n FROM persons'))[0]!.n)).toBe(4500);
    expect(Number((await db.query<Array<{ n: number }>>('SELECT COUNT(*) AS n FROM wb_exactly_once'))[0]!.n)).toBe(3000);
    expect(committed.flat()).toHaveLength(3000);
    expect(committed.length).toBeLessThan(3000 / 10);
  });

  it('a veto rolls the transaction back for its writer only: the others commit in the next one', async () => {
    committed.length = 0;
    tried.length = 0;
    const shared = new SharedTransaction(counting, 5000);
    const stream = (log: number) => logBatch(log, [log]).stream;
    // The first write's transaction is under way while the next two queue: they share the second.
    const first = shared.write(logBatch(9000, [90000]));
    const [kept, vetoed] = await Promise.all([
      shared.write(logBatch(9001, [90001])),
      shared.write(logBatch(9002, [90002]), { beforeCommit: async () => ({ veto: 'lost' }) }),
    ]);
    expect((await first).veto).toBeUndefined();
    expect(kept.veto).toBeUndefined();
    expect(vetoed.veto).toBe('lost');
    expect(tried).toEqual([[stream(9000)], [stream(9001), stream(9002)], [stream(9001)]]);
    expect(committed).toEqual([[stream(9000)], [stream(9001)]]);
    expect((await db.query<Array<{ person_id: number }>>('SELECT person_id FROM persons WHERE person_id >= 90000 ORDER BY person_id')).map((r) => Number(r.person_id))).toEqual([90000, 90001]);
  });

  it('a hook that fails rolls back its write, rows and cursor: the others commit next, and its retry is written, not skipped as a replay', async () => {
    const shared = new SharedTransaction(counting, 5000);
    const cursorOf = async (log: number) => (await db.query<Array<{ val: string }>>('SELECT val FROM wb_exactly_once WHERE id = ?', [logBatch(log, [0]).stream])).map((r) => r.val);
    const first = shared.write(logBatch(9100, [91000]));
    const [kept, failed] = await Promise.allSettled([
      shared.write(logBatch(9101, [91001])),
      shared.write(logBatch(9102, [91002]), { beforeCommit: async () => Promise.reject(new Error('XPENDING failed')) }),
    ]);
    await first;
    expect(kept.status).toBe('fulfilled');
    expect(failed.status).toBe('rejected');
    expect(await cursorOf(9102)).toEqual([]);
    // The loop retries its write (step-retry.ts): the cursor shows nothing written, so the row is.
    const retried = await shared.write(logBatch(9102, [91002]));
    expect([retried.rows, retried.replayed, retried.alreadyWritten.length]).toEqual([1, false, 0]);
    expect((await db.query<Array<{ person_id: number }>>('SELECT person_id FROM persons WHERE person_id BETWEEN 91000 AND 91002 ORDER BY person_id')).map((r) => Number(r.person_id))).toEqual([91000, 91001, 91002]);
    expect(await cursorOf(9102)).toEqual(['1000-0']);
  });
});
