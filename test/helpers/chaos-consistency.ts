/**
 * The verdict of a chaos load run against worker processes: every MySQL row equals its Redis hash, every
 * deleted key has no row, no version was applied twice, and each key's versions reached MySQL in increasing
 * order, as the chaos schema's AFTER INSERT/UPDATE trigger logged every application (APPLIED_TABLE, by seq).
 */
import type { RedisClientType } from 'redis';
import { expect } from 'vitest';
import type { ChaosLoad } from '../../bench/chaos/chaos-load.js';
import { APPLIED_TABLE } from '../../bench/chaos/chaos-schema.js';
import { verifyRound } from '../../bench/chaos/chaos-verify.js';
import type { TestDatabase } from './mysql.js';

/** Keys whose versions reached MySQL out of order, as `cp:<id>: v<n> after v<m>`, and how many applications were logged. */
async function versionsOutOfOrder(db: TestDatabase): Promise<{ applied: number; wrong: string[] }> {
  const applied = await db.query<Array<{ person_id: string | number; version: string | number }>>(`SELECT person_id, version FROM ${APPLIED_TABLE} ORDER BY seq`);
  const last = new Map<string, number>();
  const wrong: string[] = [];
  for (const { person_id, version } of applied) {
    const id = String(person_id);
    const previous = last.get(id) ?? 0;
    if (Number(version) <= previous) wrong.push(`cp:${id}: v${version} after v${previous}`);
    last.set(id, Number(version));
  }
  return { applied: applied.length, wrong };
}

/** Nothing lost, nothing applied twice, every key's versions in order, and some were applied at all. */
export async function expectConsistent(direct: RedisClientType, db: TestDatabase, load: ChaosLoad): Promise<void> {
  const verdict = await verifyRound(direct, db, load.outcomes, new Set());
  expect(verdict.examples).toEqual([]);
  expect(verdict.lost).toBe(0);
  expect(verdict.appliedTwice).toBe(0);
  const order = await versionsOutOfOrder(db);
  expect(order.wrong.slice(0, 5)).toEqual([]);
  expect(order.applied).toBeGreaterThan(0);
}
