/**
 * Poison records mixed into the load: hashes MySQL must reject (a value too long for its column, text into
 * an INT, a missing NOT NULL column). Each must end in the writer's dead-letter stream with MySQL's error,
 * have no row, and stall nothing: the rest of the load must commit.
 */
import { DeadLetterField } from '../../../src/shared/protocol.js';
import { sleep } from '../../support/sleep.js';
import type { Fault } from '../chaos-round.js';
import { CHAOS_PREFIX, CHAOS_TABLE, chaosKeys } from '../chaos-schema.js';

const FIRST_POISON_ID = 900_001;

/** The i-th poison hash: a different way to be wrong each time. */
function poisonFields(i: number): Record<string, string> {
  switch (i % 3) {
    case 0:
      return { first_name: 'x'.repeat(100), last_name: 'too long', age: '1', version: '1' };
    case 1:
      return { first_name: 'text in INT', last_name: 'l', age: 'forty-two', version: '1' };
    default:
      return { last_name: 'first is NOT NULL', age: '1', version: '1' };
  }
}

export function poisonRecords(count: number): Fault {
  const ids = Array.from({ length: count }, (_, i) => FIRST_POISON_ID + i);
  return {
    name: 'poison records',
    async inject(env) {
      for (const id of ids) env.excluded.add(id);
      const gap = (env.seconds * 1000) / (count + 1);
      for (const [i, id] of ids.entries()) {
        await sleep(gap);
        await env.client.hSet(`${CHAOS_PREFIX}:${id}`, poisonFields(i));
        env.extraChanges++;
      }
      return { injected: `${count} poison records`, failures: [], notes: [] };
    },
    async check(env) {
      const failures: string[] = [];
      const letters = await env.direct.xRange(chaosKeys.deadLetters, '-', '+');
      const lettered = new Map<string, string>();
      for (const { message } of letters) lettered.set(message['key'] ?? '', message[DeadLetterField.reason] ?? '');
      const isolated = ids.filter((id) => (lettered.get(`${CHAOS_PREFIX}:${id}`) ?? '') !== '');
      if (isolated.length !== ids.length) failures.push(`${ids.length - isolated.length} poison records not dead-lettered with a reason`);
      const others = [...lettered.keys()].filter((key) => !ids.some((id) => key === `${CHAOS_PREFIX}:${id}`));
      if (others.length > 0) failures.push(`${others.length} healthy records dead-lettered (e.g. ${others[0]})`);
      const rows = await env.db.query<Array<{ n: number }>>(`SELECT COUNT(*) AS n FROM ${CHAOS_TABLE} WHERE person_id >= ?`, [FIRST_POISON_ID]);
      if (Number(rows[0]!.n) > 0) failures.push(`${rows[0]!.n} poison records have a row`);
      return failures;
    },
  };
}
