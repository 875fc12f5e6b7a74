/**
 * The seed README's examples end to end, written once and run against two environments:
 * - the local runtime over redis-server, with MariaDB (test/integration/seed-local.test.ts, every `npm test`);
 * - Redis Stack 7.2 (RedisGears 2.0.23) with MySQL 8.0 in containers (test/stack/seed-stack.test.ts,
 *   `npm run test:stack`, where a Docker engine runs).
 * Running them locally on every test run keeps the Stack suite's own code proven: a failure there means the
 * real module or MySQL 8 behaves differently, not that the test is wrong.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { TestClient } from '../helpers/redis-client.js';
import { until } from '../helpers/until.js';

/** The example's tables, the same in both environments; `first` is short so that a long name is a data error. */
export const SEED_TABLES = [
  'CREATE TABLE persons (person_id VARCHAR(64) PRIMARY KEY, first VARCHAR(20), last VARCHAR(255), age INT)',
  'CREATE TABLE cars (car_id VARCHAR(64) PRIMARY KEY, id VARCHAR(255), color VARCHAR(255))',
];

/** The seed's example config: person: and car: writers, exactly-once on, small batches cut quickly. */
export const SEED_CONFIG = {
  name: 'WriteBehind',
  writers: [
    { name: 'PersonsWriteBehind', keysPrefix: 'person', table: 'persons', primaryKey: 'person_id', mappings: { first_name: 'first', last_name: 'last', age: 'age' } },
    { name: 'CarsWriteBehind', keysPrefix: 'car', table: 'cars', primaryKey: 'car_id', mappings: { id: 'id', color: 'color' } },
  ],
  exactlyOnceTable: 'wb_exactly_once',
  batch: { size: 200, maxDelayMs: 50 },
};

/** What the scenarios need of an environment: Redis with the library deployed, a worker running, the tables. */
export interface SeedEnvironment {
  /** Connected to Redis as applications connect (the runtime, or Redis Stack). */
  readonly client: TestClient;
  /** Another connection, for XREAD BLOCK. */
  newClient(): Promise<TestClient>;
  /** Rows of a query on the target database. */
  rows<T>(sql: string, params: unknown[]): Promise<T[]>;
}

/** An environment a test file started, and stops in afterAll. */
export interface StartedSeedEnvironment extends SeedEnvironment {
  stop(): Promise<void>;
}

type Person = { person_id: string; first: string | null; last: string | null; age: number | null };

/** Declares the scenarios; `env()` is called inside each test (the environment starts in the file's beforeAll). */
export function seedScenarios(env: () => SeedEnvironment): void {
  const person = async (id: string) => (await env().rows<Person>('SELECT person_id, first, last, age FROM persons WHERE person_id = ?', [id]))[0];
  const car = async (id: string) => (await env().rows<Record<string, unknown>>('SELECT car_id, id, color FROM cars WHERE car_id = ?', [id]))[0];

  /** XREAD BLOCK on the acknowledgement stream, as the seed tells applications to wait. */
  async function ackOf(key: string, uuid: string): Promise<Record<string, string>> {
    const reader = await env().newClient();
    const reply = (await reader.sendCommand(['XREAD', 'BLOCK', '10000', 'STREAMS', `{${key}}${uuid}`, '0-0'])) as Array<[string, Array<[string, string[]]>]> | null;
    if (reply === null) throw new Error(`no acknowledgement for ${key} ${uuid}`);
    const fields = reply[0]![1][0]![1];
    return Object.fromEntries(fields.flatMap((v, i) => (i % 2 === 0 ? [[v, fields[i + 1] ?? '']] : [])));
  }

  it('writes person: and car: hashes to their tables', async () => {
    await env().client.hSet('person:007', { first_name: 'James', last_name: 'Bond', age: '42' });
    await env().client.hSet('car:1', { id: 'DB5', color: 'silver' });
    expect(await until(() => person('007'), (r) => r !== undefined)).toEqual({ person_id: '007', first: 'James', last: 'Bond', age: 42 });
    expect(await until(() => car('1'), (r) => r !== undefined)).toEqual({ car_id: '1', id: 'DB5', color: 'silver' });
  });

  it('acknowledges a write with `# =<uuid>` once the row is in MySQL (XREAD BLOCK)', async () => {
    const uuid = randomUUID();
    await env().client.hSet('person:1', { first_name: 'Ack', last_name: 'Me', age: '1', '#': `=${uuid}` });
    expect(await ackOf('person:1', uuid)).toEqual({ status: 'done' });
    expect(await person('1')).toMatchObject({ first: 'Ack' });
    // The flag field never stays in the hash.
    expect(await env().client.hGetAll('person:1')).toEqual({ first_name: 'Ack', last_name: 'Me', age: '1' });
    expect(await env().client.ttl(`{person:1}${uuid}`)).toBeGreaterThan(3500);
  });

  it('`+` keeps the hash without replicating; `-` deletes it without replicating', async () => {
    await env().client.hSet('person:2', { first_name: 'Kept', age: '2' });
    await until(() => person('2'), (r) => r !== undefined);
    const plus = randomUUID();
    await env().client.hSet('person:2', { first_name: 'Local', '#': `+${plus}` });
    expect(await ackOf('person:2', plus)).toEqual({ status: 'done' });
    expect(await env().client.hGet('person:2', 'first_name')).toBe('Local');
    const minus = randomUUID();
    await env().client.hSet('person:2', { '#': `-${minus}` });
    expect(await ackOf('person:2', minus)).toEqual({ status: 'done' });
    expect(await env().client.exists('person:2')).toBe(0);
    // A later replicated write proves the pipeline moved past them: the row still shows the replicated value.
    const probe = randomUUID();
    await env().client.hSet('person:3', { first_name: 'Probe', '#': `=${probe}` });
    await ackOf('person:3', probe);
    expect(await person('2')).toMatchObject({ first: 'Kept', age: 2 });
  });

  it('`~` deletes the hash and the row; so do DEL and expiry', async () => {
    await env().client.hSet('person:4', { first_name: 'Four' });
    await env().client.hSet('person:5', { first_name: 'Five' });
    await env().client.hSet('person:6', { first_name: 'Six' });
    await until(() => person('6'), (r) => r !== undefined);
    const tilde = randomUUID();
    await env().client.hSet('person:4', { '#': `~${tilde}` });
    expect(await ackOf('person:4', tilde)).toEqual({ status: 'done' });
    expect(await env().client.exists('person:4')).toBe(0);
    expect(await person('4')).toBeUndefined();
    await env().client.del('person:5');
    await env().client.pExpire('person:6', 50);
    await until(async () => [await person('5'), await person('6')], (rows) => rows.every((r) => r === undefined));
  });

  it('writes partial hashes with NULLs, and updates', async () => {
    await env().client.hSet('person:8', { first_name: 'Part' });
    expect(await until(() => person('8'), (r) => r !== undefined)).toEqual({ person_id: '8', first: 'Part', last: null, age: null });
    await env().client.hSet('person:8', { age: '30', last_name: 'Ial' });
    await until(() => person('8'), (r) => r?.age === 30);
    await env().client.hDel('person:8', 'last_name');
    expect(await until(() => person('8'), (r) => r?.last === null)).toEqual({ person_id: '8', first: 'Part', last: null, age: 30 });
  });

  it('acknowledges a rejected write with status failed and its MySQL error, and dead-letters it', async () => {
    const uuid = randomUUID();
    await env().client.hSet('person:9', { first_name: 'Name far longer than twenty characters', '#': `=${uuid}` });
    const ack = await ackOf('person:9', uuid);
    expect(ack['status']).toBe('failed');
    expect(ack['error']).toContain('Data too long');
    const letters = (await env().client.sendCommand(['XRANGE', 'wb:dlq:{PersonsWriteBehind}', '-', '+'])) as Array<[string, string[]]>;
    expect(letters.some(([, f]) => f.includes('person:9'))).toBe(true);
    // The writer is not stalled.
    await env().client.hSet('person:10', { first_name: 'After' });
    await until(() => person('10'), (r) => r !== undefined);
  });

  it('stores quotes, SQL-ish strings and unicode exactly', async () => {
    const sqlish = "O'Brien\"; DROP TABLE persons; --\\";
    await env().client.hSet('person:11', { first_name: 'Zoë 🐍', last_name: sqlish });
    expect(await until(() => person('11'), (r) => r !== undefined)).toMatchObject({ first: 'Zoë 🐍', last: sqlish });
  });

  it('backfill and delete_missing leave keys written with + and - alone while their record holds; without it, re-capture a hash no capture replicated and delete the row of a hash gone unreplicated', async () => {
    const stream = 'wb:changes:{PersonsWriteBehind}';
    const counts = async (fn: string, ...keys: string[]) => JSON.parse((await env().client.sendCommand(['TFCALL', `WriteBehind.${fn}`, String(keys.length + 1), stream, ...keys])) as string) as unknown;
    // Dropping a key's divergence record by hand makes it stand for data that existed before the library.
    const forgetRecord = () => env().client.sendCommand(['HDEL', 'wb:divergent:{PersonsWriteBehind}', 'person:12']);
    // `+`: the hash stays and nothing is replicated; kept apart from MySQL while its record holds.
    await env().client.hSet('person:12', { first_name: 'Before', age: '12', '#': '+' });
    expect(await counts('backfill', 'person:12')).toEqual({ captured: 0, skipped: 0, kept: 1, notHash: 0, deadLettered: 0 });
    await forgetRecord();
    expect(await counts('backfill', 'person:12', 'person:gone')).toEqual({ captured: 1, skipped: 1, kept: 0, notHash: 0, deadLettered: 0 });
    expect(await until(() => person('12'), (r) => r !== undefined)).toEqual({ person_id: '12', first: 'Before', last: null, age: 12 });
    // `-`: the hash goes and nothing is replicated: the row stays while the record holds, an orphan without it
    // until delete_missing captures its delete.
    await env().client.hSet('person:12', { '#': '-' });
    expect(await person('12')).toBeDefined();
    expect(await counts('delete_missing', 'person:12')).toEqual({ captured: 0, skipped: 0, kept: 1, notHash: 0, deadLettered: 0 });
    await forgetRecord();
    expect(await counts('delete_missing', 'person:12', 'person:11')).toEqual({ captured: 1, skipped: 1, kept: 0, notHash: 0, deadLettered: 0 });
    await until(() => person('12'), (r) => r === undefined);
    await expect(env().client.sendCommand(['TFCALL', 'WriteBehind.backfill', '2', stream, 'car:1'])).rejects.toThrow("ERR backfill: key 'car:1' is not under person:");
  });
}
