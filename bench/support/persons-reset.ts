/** Creates (if needed) and empties the persons and exactly-once tables, so every repetition starts alike. */
import type { BenchDatabase } from './bench-database.js';
import { CREATE_EXACTLY_ONCE, CREATE_PERSONS, EXACTLY_ONCE_TABLE, PERSONS_TABLE } from './persons-table.js';

export async function resetPersons(db: BenchDatabase): Promise<void> {
  await db.query(CREATE_PERSONS);
  await db.query(CREATE_EXACTLY_ONCE);
  await db.query(`TRUNCATE TABLE ${PERSONS_TABLE}`);
  await db.query(`TRUNCATE TABLE ${EXACTLY_ONCE_TABLE}`);
}
