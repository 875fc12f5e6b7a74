/**
 * The rows every scenario writes: a persons-like table (person_id PK, first, last, age), the shape of the
 * seed's example, and the exactly-once table (`id`, `val`) the seed describes. Values travel as strings, as
 * they do from a Redis hash, so MySQL does the same conversions in every scenario.
 */

export const PERSONS_TABLE = 'persons';
export const EXACTLY_ONCE_TABLE = 'wb_exactly_once';

export const CREATE_PERSONS = `CREATE TABLE IF NOT EXISTS ${PERSONS_TABLE} (
  person_id BIGINT NOT NULL PRIMARY KEY,
  first VARCHAR(64) NOT NULL,
  last VARCHAR(64) NOT NULL,
  age INT NULL
) ENGINE=InnoDB`;

export const CREATE_EXACTLY_ONCE = `CREATE TABLE IF NOT EXISTS ${EXACTLY_ONCE_TABLE} (
  id VARCHAR(255) NOT NULL PRIMARY KEY,
  val VARCHAR(64) NOT NULL
) ENGINE=InnoDB`;

/** One row as the bench writes it: column values as strings (hash field values). */
export type PersonRow = readonly [personId: string, first: string, last: string, age: string];

/** The i-th row's field values; `version` changes the row's content so a rewrite is a real update. */
export function personRow(id: number, version = 0): PersonRow {
  return [String(id), `First${id}v${version}`, `Last${id}`, String(20 + ((id + version) % 60))];
}

/** The same row as hash fields (the example config's mapping: first_name→first, last_name→last, age→age). */
export function personHashFields(id: number, version = 0): Record<string, string> {
  const [, first, last, age] = personRow(id, version);
  return { first_name: first, last_name: last, age };
}

export function personRows(count: number, version = 0): PersonRow[] {
  const rows: PersonRow[] = new Array(count);
  for (let i = 0; i < count; i++) rows[i] = personRow(i + 1, version);
  return rows;
}
