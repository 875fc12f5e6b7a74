/**
 * A library upgrade over a backlog: records the previous library wrote in record format 1 (a field per part)
 * are still in the capture stream when the library that writes format 2 (one `v2` field) is deployed. The
 * worker drains both, in stream order, to the same rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writerKeys } from '../../src/shared/keys.js';
import { deployLibrary } from '../../src/deploy/deploy.js';
import { startPipeline, waitDrained, type Pipeline, type TestClient } from './pipeline-helpers.js';

const PERSONS = writerKeys('PersonsWriteBehind');
let p: Pipeline;
let direct: TestClient;

beforeAll(async () => {
  p = await startPipeline('upgrade');
  direct = await p.newDirectClient();
});

afterAll(async () => {
  await p?.close();
});

/** A format-1 upsert, field by field, as libraries before record format 2 captured it. */
function formatOneUpsert(id: string, columns: Record<string, string>, nulls: string[] = []): string[] {
  const fields = ['op', 'u', 'key', `person:${id}`, 'table', 'persons', 'k:person_id', id];
  for (const [column, value] of Object.entries(columns)) fields.push(`c:${column}`, value);
  if (nulls.length > 0) fields.push('null', nulls.join(','));
  return fields;
}

const formatOneDelete = (id: string) => ['op', 'd', 'key', `person:${id}`, 'table', 'persons', 'k:person_id', id];

const rows = async () => p.db.query<Array<{ person_id: string; first: string | null; last: string | null; age: number | null }>>('SELECT person_id, first, last, age FROM persons ORDER BY person_id');

describe('record format upgrade', () => {
  it('drains a format-1 backlog of the previous library, then the upgraded library\'s format-2 records, in order', { timeout: 30_000 }, async () => {
    // The previous library's backlog, appended through the runtime so the batcher counts and cuts it as captures.
    const old: string[][] = [];
    for (let i = 0; i < 150; i++) old.push(formatOneUpsert(`U${i}`, { first: `old${i}`, last: 'L', age: String(i) }));
    old.push(formatOneUpsert('N', { first: 'n' }, ['last', 'age']));
    old.push(formatOneUpsert('D', { first: 'gone' }), formatOneDelete('D'));
    for (const fields of old) await p.client.sendCommand(['XADD', PERSONS.changes, '*', ...fields]);

    await deployLibrary({ redisUrl: p.runtime.url, config: p.config });
    // After the upgrade: later changes of some of the same keys, captured in format 2.
    for (let i = 0; i < 150; i += 3) await p.client.hSet(`person:U${i}`, { first_name: `new${i}`, last_name: 'M', age: String(i + 1000) });
    await p.client.hSet('person:U1', { first_name: 'x' });
    await p.client.del('person:U1');
    const entries = (await direct.sendCommand(['XRANGE', PERSONS.changes, '-', '+'])) as Array<[string, string[]]>;
    const fieldNames = entries.map(([, fields]) => fields[0]);
    expect(fieldNames.slice(0, old.length).every((name) => name === 'op')).toBe(true);
    expect(fieldNames.slice(old.length)).toEqual(Array(52).fill('v2'));

    await p.startWorker('upgrader');
    await waitDrained(direct, PERSONS, 20_000);
    const expected = [];
    for (let i = 0; i < 150; i++) {
      if (i === 1) continue;
      expected.push(i % 3 === 0 ? { person_id: `U${i}`, first: `new${i}`, last: 'M', age: i + 1000 } : { person_id: `U${i}`, first: `old${i}`, last: 'L', age: i });
    }
    expected.push({ person_id: 'N', first: 'n', last: null, age: null });
    expected.sort((a, b) => (a.person_id < b.person_id ? -1 : 1));
    expect(await rows()).toEqual(expected);
    expect(await direct.xLen(PERSONS.deadLetters)).toBe(0);
  });
});
