/**
 * The chaos campaign's table, config and the detector of double application. Every write of the load carries a
 * `version` (per key, increasing); an AFTER INSERT and an AFTER UPDATE trigger append (person_id, version) to
 * `chaos_applied` each time MySQL applies a row image. With exactly-once on, no (person_id, version) may appear
 * twice: a replayed batch that was already committed must be skipped, not re-applied.
 */
import { parseConfig, type WriteBehindConfig } from '../../src/shared/config.js';
import { writerKeys } from '../../src/shared/keys.js';
import type { BenchDatabase } from '../support/bench-database.js';

export const CHAOS_WRITER = 'ChaosPersons';
export const CHAOS_PREFIX = 'cp';
export const CHAOS_TABLE = 'chaos_persons';
export const APPLIED_TABLE = 'chaos_applied';
export const CHAOS_EXACTLY_ONCE_TABLE = 'wb_exactly_once';
export const chaosKeys = writerKeys(CHAOS_WRITER);

/**
 * Small batches, cut quickly: more batch boundaries for the faults to land on. `exactlyOnce: false` is the
 * control run: replays are then allowed, and the audit trigger should see some, which shows it can.
 */
export function chaosConfig(options: { exactlyOnce?: boolean; partitions?: number } = {}): WriteBehindConfig {
  const parsed = parseConfig({
    name: 'WriteBehindChaos',
    writers: [{ name: CHAOS_WRITER, keysPrefix: CHAOS_PREFIX, table: CHAOS_TABLE, primaryKey: 'person_id', mappings: { first_name: 'first', last_name: 'last', age: 'age', version: 'version' }, ...(options.partitions === undefined ? {} : { partitions: options.partitions }) }],
    ...(options.exactlyOnce === false ? {} : { exactlyOnceTable: CHAOS_EXACTLY_ONCE_TABLE }),
    batch: { size: 200, maxDelayMs: 50 },
  });
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.config;
}

const DDL = [
  `CREATE TABLE IF NOT EXISTS ${CHAOS_TABLE} (
    person_id BIGINT NOT NULL PRIMARY KEY,
    first VARCHAR(64) NOT NULL,
    last VARCHAR(64) NULL,
    age INT NULL,
    version BIGINT NOT NULL
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE IF NOT EXISTS ${APPLIED_TABLE} (
    seq BIGINT AUTO_INCREMENT PRIMARY KEY,
    person_id BIGINT NOT NULL,
    version BIGINT NOT NULL,
    KEY (person_id, version)
  ) ENGINE=InnoDB`,
  `CREATE TRIGGER IF NOT EXISTS chaos_applied_insert AFTER INSERT ON ${CHAOS_TABLE} FOR EACH ROW INSERT INTO ${APPLIED_TABLE} (person_id, version) VALUES (NEW.person_id, NEW.version)`,
  // For INSERT … ON DUPLICATE KEY UPDATE, AFTER UPDATE fires for every duplicate row, changed or not: a replay
  // of the same image is counted.
  `CREATE TRIGGER IF NOT EXISTS chaos_applied_update AFTER UPDATE ON ${CHAOS_TABLE} FOR EACH ROW INSERT INTO ${APPLIED_TABLE} (person_id, version) VALUES (NEW.person_id, NEW.version)`,
];

/** Creates the tables and triggers if needed and empties them (and the exactly-once cursors) for a new round. */
export async function resetChaosTables(db: Pick<BenchDatabase, 'query'>): Promise<void> {
  for (const ddl of DDL) await db.query(ddl);
  await db.query(`TRUNCATE TABLE ${CHAOS_TABLE}`);
  await db.query(`TRUNCATE TABLE ${APPLIED_TABLE}`);
  await db.query(`DROP TABLE IF EXISTS ${CHAOS_EXACTLY_ONCE_TABLE}`);
}
