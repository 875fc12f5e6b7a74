/**
 * The seed README's examples end to end, on the runtime with the real library and the worker: person:/car:
 * hashes land in their tables; the four `#` flags; acknowledgements read with XREAD BLOCK; DEL, expiry,
 * partial hashes and updates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startPipeline, until, type Pipeline } from './pipeline-helpers.js';

let p: Pipeline;

beforeAll(async () => {
  p = await startPipeline('seed');
  await p.startWorker();
});

afterAll(async () => {
  await p?.close();
});

type Person = { person_id: string; first: string | null; last: string | null; age: number | null };
const person = async (id: string) => (await p.db.query<Person[]>('SELECT person_id, first, last, age FROM persons WHERE person_id = ?', [id]))[0];
const car = async (id: string) => (await p.db.query<Array<Record<string, unknown>>>('SELECT car_id, id, color FROM cars WHERE car_id = ?', [id]))[0];

async function ackOf(key: string, uuid: string): Promise<Record<string, string>> {
  const reader = await p.newClient();
  const reply = (await reader.sendCommand(['XREAD', 'BLOCK', '5000', 'STREAMS', `{${key}}${uuid}`, '0-0'])) as Array<[string, Array<[string, string[]]>]> | null;
  if (reply === null) throw new Error(`no acknowledgement for ${key} ${uuid}`);
  const fields = reply[0]![1][0]![1];
  return Object.fromEntries(fields.flatMap((v, i) => (i % 2 === 0 ? [[v, fields[i + 1] ?? ""]] : [])));
}

describe('the seed README, end to end', () => {
  it('writes person: and car: hashes to their tables', async () => {
    await p.client.hSet('person:007', { first_name: 'James', last_name: 'Bond', age: '42' });
    await p.client.hSet('car:1', { id: 'DB5', color: 'silver' });
    expect(await until(() => person('007'), (r) => r !== undefined)).toEqual({ person_id: '007', first: 'James', last: 'Bond', age: 42 });
    expect(await until(() => car('1'), (r) => r !== undefined)).toEqual({ car_id: '1', id: 'DB5', color: 'silver' });
  });

  it('acknowledges a write with `# =<uuid>` once the row is in MySQL (XREAD BLOCK)', async () => {
    const uuid = randomUUID();
    await p.client.hSet('person:1', { first_name: 'Ack', last_name: 'Me', age: '1', '#': `=${uuid}` });
    expect(await ackOf('person:1', uuid)).toEqual({ status: 'done' });
    expect(await person('1')).toMatchObject({ first: 'Ack' });
    expect(await p.client.hGetAll('person:1')).toEqual({ first_name: 'Ack', last_name: 'Me', age: '1' });
    expect(await p.client.ttl(`{person:1}${uuid}`)).toBeGreaterThan(3500);
  });

  it('`+` keeps the hash without replicating; `-` deletes it without replicating', async () => {
    await p.client.hSet('person:2', { first_name: 'Kept', age: '2' });
    await until(() => person('2'), (r) => r !== undefined);
    const plus = randomUUID();
    await p.client.hSet('person:2', { first_name: 'Local', '#': `+${plus}` });
    expect(await ackOf('person:2', plus)).toEqual({ status: 'done' });
    const minus = randomUUID();
    await p.client.hSet('person:2', { '#': `-${minus}` });
    expect(await ackOf('person:2', minus)).toEqual({ status: 'done' });
    expect(await p.client.exists('person:2')).toBe(0);
    // A later replicated write proves the pipeline moved past them: the row still shows the replicated value.
    const probe = randomUUID();
    await p.client.hSet('person:3', { first_name: 'Probe', '#': `=${probe}` });
    await ackOf('person:3', probe);
    expect(await person('2')).toMatchObject({ first: 'Kept', age: 2 });
  });

  it('`~` deletes the hash and the row; so do DEL and expiry', async () => {
    await p.client.hSet('person:4', { first_name: 'Four' });
    await p.client.hSet('person:5', { first_name: 'Five' });
    await p.client.hSet('person:6', { first_name: 'Six' });
    await until(() => person('6'), (r) => r !== undefined);
    const tilde = randomUUID();
    await p.client.hSet('person:4', { '#': `~${tilde}` });
    expect(await ackOf('person:4', tilde)).toEqual({ status: 'done' });
    expect(await p.client.exists('person:4')).toBe(0);
    expect(await person('4')).toBeUndefined();
    await p.client.del('person:5');
    await p.client.pExpire('person:6', 50);
    await until(async () => [await person('5'), await person('6')], (rows) => rows.every((r) => r === undefined));
  });

  it('writes partial hashes with NULLs, and updates', async () => {
    await p.client.hSet('person:8', { first_name: 'Part' });
    expect(await until(() => person('8'), (r) => r !== undefined)).toEqual({ person_id: '8', first: 'Part', last: null, age: null });
    await p.client.hSet('person:8', { age: '30', last_name: 'Ial' });
    await until(() => person('8'), (r) => r?.age === 30);
    await p.client.hDel('person:8', 'last_name');
    expect(await until(() => person('8'), (r) => r?.last === null)).toEqual({ person_id: '8', first: 'Part', last: null, age: 30 });
  });

  it('acknowledges a rejected write with status failed and its MySQL error, and dead-letters it', async () => {
    const uuid = randomUUID();
    await p.client.hSet('person:9', { first_name: 'Name far longer than twenty characters', '#': `=${uuid}` });
    const ack = await ackOf('person:9', uuid);
    expect(ack['status']).toBe('failed');
    expect(ack['error']).toContain('Data too long');
    const letters = (await p.client.sendCommand(['XRANGE', 'wb:dlq:{PersonsWriteBehind}', '-', '+'])) as Array<[string, string[]]>;
    expect(letters.some(([, f]) => f.includes('person:9'))).toBe(true);
    // The writer is not stalled.
    await p.client.hSet('person:10', { first_name: 'After' });
    await until(() => person('10'), (r) => r !== undefined);
  });

  it('stores quotes, SQL-ish strings and unicode exactly', async () => {
    const sqlish = "O'Brien\"; DROP TABLE persons; --\\";
    await p.client.hSet('person:11', { first_name: 'Zoë 🐍', last_name: sqlish });
    expect(await until(() => person('11'), (r) => r !== undefined)).toMatchObject({ first: 'Zoë 🐍', last: sqlish });
  });
});
