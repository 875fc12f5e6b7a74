/**
 * The campaign's verdict on a round, read from the stores themselves:
 * - lost: a MySQL row that differs from its Redis hash, a hash without its row, a row whose key is gone (a lost
 *   delete), plus acknowledged writes Redis itself no longer holds;
 * - applied twice: a (person_id, version) the AFTER INSERT/UPDATE triggers recorded more than once.
 */
import type { RedisClientType } from 'redis';
import type { BenchDatabase } from '../support/bench-database.js';
import type { KeyOutcome } from './chaos-load.js';
import { APPLIED_TABLE, CHAOS_PREFIX, CHAOS_TABLE } from './chaos-schema.js';

export interface RoundVerdict {
  /** Keys compared (present in Redis or MySQL, poison and bad-input keys excluded). */
  readonly keysCompared: number;
  /** Changes lost whose last write Redis acknowledged to the application. */
  readonly lost: number;
  /**
   * Rows that differ from their hash where the key's last write got no reply (the runtime or redis-server died
   * under it): the write reached Redis but its capture did not. An application retrying the write repairs it.
   */
  readonly lostUnacknowledged: number;
  readonly appliedTwice: number;
  /** The first few differences, for the report. */
  readonly examples: string[];
}

interface Row {
  person_id: string | number;
  first: string;
  last: string | null;
  age: number | null;
  version: string | number;
}

const EXAMPLES = 5;

export async function verifyRound(direct: RedisClientType, db: Pick<BenchDatabase, 'query'>, outcomes: ReadonlyMap<number, KeyOutcome>, excluded: ReadonlySet<number>): Promise<RoundVerdict> {
  const hashes = await readHashes(direct, excluded);
  const rows = new Map<number, Row>();
  for (const row of await db.query<Row[]>(`SELECT person_id, first, last, age, version FROM ${CHAOS_TABLE}`)) {
    const id = Number(row.person_id);
    if (!excluded.has(id)) rows.set(id, row);
  }
  const examples: string[] = [];
  let lost = 0;
  let lostUnacknowledged = 0;
  const note = (message: string, id?: number) => {
    const unacknowledged = id !== undefined && outcomes.get(id) === 'uncertain';
    if (unacknowledged) lostUnacknowledged++;
    else lost++;
    if (examples.length < EXAMPLES) examples.push(unacknowledged ? `${message} (its last write got no reply)` : message);
  };
  for (const [id, hash] of hashes) {
    const row = rows.get(id);
    if (row === undefined) note(`${CHAOS_PREFIX}:${id} v${hash['version']} has no row`, id);
    else if (row.first !== hash['first_name'] || row.last !== (hash['last_name'] ?? null) || String(row.age) !== hash['age'] || String(row.version) !== hash['version']) {
      note(`${CHAOS_PREFIX}:${id} hash v${hash['version']} but row v${row.version}`, id);
    }
  }
  for (const id of rows.keys()) if (!hashes.has(id)) note(`${CHAOS_PREFIX}:${id} is deleted in Redis but its row remains`, id);
  for (const [id, outcome] of outcomes) {
    if (outcome === 'uncertain' || excluded.has(id)) continue;
    const hash = hashes.get(id);
    if (outcome.deleted && hash !== undefined) note(`${CHAOS_PREFIX}:${id}: acknowledged DEL (v${outcome.version}) but Redis holds v${hash['version']}`);
    if (!outcome.deleted && hash?.['version'] !== String(outcome.version)) note(`${CHAOS_PREFIX}:${id}: acknowledged v${outcome.version} but Redis holds ${hash === undefined ? 'nothing' : `v${hash['version']}`}`);
  }
  const twice = await db.query<Array<{ n: number }>>(`SELECT COUNT(*) AS n FROM (SELECT person_id, version FROM ${APPLIED_TABLE} GROUP BY person_id, version HAVING COUNT(*) > 1) AS t`);
  return { keysCompared: new Set([...hashes.keys(), ...rows.keys()]).size, lost, lostUnacknowledged, appliedTwice: Number(twice[0]!.n), examples };
}

/** Every `cp:<id>` hash on the redis-server (read directly, not through the runtime). */
async function readHashes(direct: RedisClientType, excluded: ReadonlySet<number>): Promise<Map<number, Record<string, string>>> {
  const ids: number[] = [];
  for await (const keys of direct.scanIterator({ MATCH: `${CHAOS_PREFIX}:*`, COUNT: 1000 })) {
    for (const key of keys) {
      const tail = key.slice(CHAOS_PREFIX.length + 1);
      // Bad-input keys (`cp:`, `cp:abc`) are judged by their own round, not here.
      if (!/^[0-9]+$/.test(tail)) continue;
      const id = Number(tail);
      if (!excluded.has(id)) ids.push(id);
    }
  }
  const values = await Promise.all(ids.map((id) => direct.hGetAll(`${CHAOS_PREFIX}:${id}`)));
  return new Map(ids.map((id, i) => [id, values[i] as Record<string, string>]));
}

/**
 * Keys whose versions reached MySQL out of order (`cp:<id>: v<n> after v<m>`), from the applied-versions log
 * the AFTER INSERT/UPDATE triggers write in commit order; `applied` counts the applications read.
 */
export async function appliedOutOfOrder(db: Pick<BenchDatabase, 'query'>): Promise<{ applied: number; wrong: string[] }> {
  const applied = await db.query<Array<{ person_id: string | number; version: string | number }>>(`SELECT person_id, version FROM ${APPLIED_TABLE} ORDER BY seq`);
  const last = new Map<string, number>();
  const wrong: string[] = [];
  for (const { person_id, version } of applied) {
    const id = String(person_id);
    const previous = last.get(id) ?? 0;
    if (Number(version) <= previous) wrong.push(`${CHAOS_PREFIX}:${id}: v${version} after v${previous}`);
    last.set(id, Number(version));
  }
  return { applied: applied.length, wrong };
}
