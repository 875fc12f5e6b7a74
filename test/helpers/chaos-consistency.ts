/**
 * The scale-out tests' verdict after a chaos load: every MySQL row equals its Redis hash, no acknowledged write
 * was lost, no version was applied twice, and each key's versions reached MySQL in increasing order.
 */
import type { RedisClientType } from 'redis';
import { expect } from 'vitest';
import type { KeyOutcome } from '../../bench/chaos/chaos-load.js';
import { appliedOutOfOrder, verifyRound } from '../../bench/chaos/chaos-verify.js';
import { APPLIED_TABLE, CHAOS_PREFIX } from '../../bench/chaos/chaos-schema.js';
import type { BenchDatabase } from '../../bench/support/bench-database.js';

export async function expectConsistent(redis: RedisClientType, db: Pick<BenchDatabase, 'query'>, outcomes: ReadonlyMap<number, KeyOutcome>, replyOrder?: ReadonlyMap<number, readonly number[]>): Promise<void> {
  const verdict = await verifyRound(redis, db, outcomes, new Set());
  expect(verdict.examples).toEqual([]);
  expect(verdict.lost).toBe(0);
  expect(verdict.appliedTwice).toBe(0);
  const order = await appliedOutOfOrder(db);
  expect(order.wrong.slice(0, 5), order.wrong.length === 0 ? undefined : await orderContext(db, order.wrong.slice(0, 5), replyOrder)).toEqual([]);
  expect(order.applied).toBeGreaterThan(0);
}

/**
 * For keys applied out of order: every version MySQL applied, in order, and the order in which the load got the
 * replies of its writes. Replies out of order too mean Redis ran the writes out of the load's order, which the
 * write-behind then follows (the capture is state-based, per key in Redis' order); replies in order mean the
 * write-behind reordered them.
 */
async function orderContext(db: Pick<BenchDatabase, 'query'>, wrong: readonly string[], replyOrder: ReadonlyMap<number, readonly number[]> | undefined): Promise<string> {
  const lines: string[] = [];
  for (const line of wrong) {
    const id = Number(/^[^:]+:(\d+):/.exec(line)?.[1]);
    if (!Number.isSafeInteger(id)) continue;
    const applied = await db.query<Array<{ version: string | number }>>(`SELECT version FROM ${APPLIED_TABLE} WHERE person_id = ? ORDER BY seq`, [id]);
    const replies = replyOrder?.get(id);
    lines.push(`${CHAOS_PREFIX}:${id}: applied ${applied.map((row) => `v${row.version}`).join(' ')}; replies ${replies === undefined ? 'unknown' : replies.map((v) => `v${v}`).join(' ')}`);
  }
  return lines.join('\n');
}
