/**
 * The scale-out tests' verdict after a chaos load: every MySQL row equals its Redis hash, no acknowledged write
 * was lost, no version was applied twice, and each key's versions reached MySQL in increasing order.
 */
import type { RedisClientType } from 'redis';
import { expect } from 'vitest';
import type { KeyOutcome } from '../../bench/chaos/chaos-load.js';
import { appliedOutOfOrder, verifyRound } from '../../bench/chaos/chaos-verify.js';
import type { BenchDatabase } from '../../bench/support/bench-database.js';

export async function expectConsistent(redis: RedisClientType, db: Pick<BenchDatabase, 'query'>, outcomes: ReadonlyMap<number, KeyOutcome>): Promise<void> {
  const verdict = await verifyRound(redis, db, outcomes, new Set());
  expect(verdict.examples).toEqual([]);
  expect(verdict.lost).toBe(0);
  expect(verdict.appliedTwice).toBe(0);
  const order = await appliedOutOfOrder(db);
  expect(order.wrong.slice(0, 5)).toEqual([]);
  expect(order.applied).toBeGreaterThan(0);
}
