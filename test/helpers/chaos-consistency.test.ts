/** The verdict names, for a key applied out of order, what MySQL applied and in what order the load got its replies. */
import { expect, it } from 'vitest';
import type { RedisClientType } from 'redis';
import { expectConsistent } from '../helpers/chaos-consistency.js';

it('names the applied versions and the reply order of a key applied out of order', async () => {
  const redis = { async *scanIterator() {}, hGetAll: async () => ({}) } as unknown as RedisClientType;
  const db = {
    async query(sql: string, params?: unknown[]) {
      if (sql.startsWith('SELECT person_id, first')) return [];
      if (sql.startsWith('SELECT COUNT(*)')) return [{ n: 0 }];
      if (sql.startsWith('SELECT person_id, version')) return [{ person_id: 23, version: 4 }, { person_id: 23, version: 6 }, { person_id: 23, version: 5 }];
      if (sql.startsWith('SELECT version') && params?.[0] === 23) return [{ version: 4 }, { version: 6 }, { version: 5 }];
      throw new Error(sql);
    },
  } as never;
  await expect(expectConsistent(redis, db, new Map(), new Map([[23, [4, 6, 5]]]))).rejects.toThrow('cp:23: applied v4 v6 v5; replies v4 v6 v5');
  await expect(expectConsistent(redis, db, new Map())).rejects.toThrow('cp:23: applied v4 v6 v5; replies unknown');
});
