/**
 * The write-behind config the pipeline scenarios deploy: the seed's persons writer on the bench's persons
 * table, exactly-once on, the default batch size. Written to a file too, because the worker reads its config
 * from one.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, type WriteBehindConfig } from '../../src/shared/config.js';
import { EXACTLY_ONCE_TABLE, PERSONS_TABLE } from './persons-table.js';

export const BENCH_WRITER = 'PersonsWriteBehind';
export const BENCH_KEY_PREFIX = 'person';

export function benchConfig(overrides: { batch?: { size: number; maxDelayMs: number }; partitions?: number } = {}): WriteBehindConfig {
  const parsed = parseConfig({
    name: 'WriteBehindBench',
    writers: [{ name: BENCH_WRITER, keysPrefix: BENCH_KEY_PREFIX, table: PERSONS_TABLE, primaryKey: 'person_id', mappings: { first_name: 'first', last_name: 'last', age: 'age' }, ...(overrides.partitions === undefined ? {} : { partitions: overrides.partitions }) }],
    exactlyOnceTable: EXACTLY_ONCE_TABLE,
    batch: overrides.batch ?? { size: 1000, maxDelayMs: 100 },
  });
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.config;
}

export function writeConfigFile(dir: string, config: WriteBehindConfig): string {
  const file = join(dir, 'writebehind.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}
