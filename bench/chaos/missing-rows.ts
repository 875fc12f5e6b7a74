/**
 * What a drain that stopped short left behind, per key whose row is missing from MySQL: the hash, its slot
 * log (records left, meta captured/cut/committed/committed_rows, dead letters) and its exactly-once cursor.
 * Enough to tell a write the capture never recorded (no record; the log's `captured` and `committed_rows`
 * count only the slot's other keys) from a record the worker lost (a record left, a dead letter, or a cursor
 * past a row MySQL lacks).
 */
import type { createClient, createCluster } from 'redis';
import { partitionKeys } from '../../src/shared/keys.js';
import { CLUSTER_SLOTS, keySlot } from '../../src/shared/key-slot.js';
import { MetaField } from '../../src/shared/protocol.js';
import type { BenchDatabase } from '../support/bench-database.js';
import { CHAOS_EXACTLY_ONCE_TABLE, CHAOS_PREFIX, CHAOS_TABLE, CHAOS_WRITER } from './chaos-schema.js';

type ClusterClient = ReturnType<typeof createCluster>;
type ServerClient = ReturnType<typeof createClient>;

export interface MissingRow {
  readonly key: string;
  readonly slot: number;
  /** Keys 1..keys of the load that share the slot (their rows count in the log's committed_rows). */
  readonly slotKeys: readonly string[];
  readonly hash: Record<string, string>;
  readonly recordsLeft: number;
  readonly deadLetters: number;
  readonly meta: Record<string, string | undefined>;
  readonly cursor: string | null;
}

/** Ids 1..keys whose row is not in the chaos table. */
export async function missingIds(db: Pick<BenchDatabase, 'query'>, keys: number): Promise<number[]> {
  const rows = await db.query<Array<{ person_id: number | string }>>(`SELECT person_id FROM ${CHAOS_TABLE}`);
  const present = new Set(rows.map((row) => Number(row.person_id)));
  return Array.from({ length: keys }, (_, i) => i + 1).filter((id) => !present.has(id));
}

/** Records left in every capture stream of every shard (read on the servers: the writes' records, before any drain). */
export async function capturedRecords(servers: readonly ServerClient[]): Promise<number> {
  let total = 0;
  for (const server of servers) {
    for await (const names of server.scanIterator({ MATCH: 'wb:changes:*', COUNT: 1000 })) for (const name of names) total += await server.xLen(name);
  }
  return total;
}

export async function describeMissingRows(cluster: ClusterClient, db: Pick<BenchDatabase, 'query'>, ids: readonly number[], keys: number): Promise<MissingRow[]> {
  const described: MissingRow[] = [];
  for (const id of ids) {
    const key = `${CHAOS_PREFIX}:${id}`;
    const slot = keySlot(key);
    const log = partitionKeys(CHAOS_WRITER, slot, CLUSTER_SLOTS);
    const slotKeys = Array.from({ length: keys }, (_, i) => `${CHAOS_PREFIX}:${i + 1}`).filter((other) => keySlot(other) === slot);
    const meta = await cluster.hGetAll(log.meta);
    const [cursor] = await db.query<Array<{ val: string }>>(`SELECT val FROM ${CHAOS_EXACTLY_ONCE_TABLE} WHERE id = ?`, [log.changes]);
    described.push({
      key,
      slot,
      slotKeys,
      hash: await cluster.hGetAll(key),
      recordsLeft: await cluster.xLen(log.changes),
      deadLetters: await cluster.xLen(log.deadLetters),
      meta: { captured: meta[MetaField.captured], cut: meta[MetaField.cut], committed: meta[MetaField.committed], committedRows: meta[MetaField.committedRows] },
      cursor: cursor?.val ?? null,
    });
  }
  return described;
}
