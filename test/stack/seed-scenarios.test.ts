/**
 * The seed's README, end to end, against the real RedisGears 2.0.23 module in Redis Stack 7.2: person: and car:
 * writers, the four `#` flags, acknowledgements read with XREAD BLOCK, DEL and expiry. Every test skips (one
 * line from the global setup says why) where no Docker engine is reachable.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, startStackEnvironment, type StackEnvironment } from './stack-environment.js';

const skipReason = inject('stackSkipReason');

describe.skipIf(skipReason !== null)('Redis Stack 7.2 (RedisGears 2.0.23) + MySQL 8.0: the seed scenarios', () => {
  let env: StackEnvironment;

  beforeAll(async () => {
    env = await startStackEnvironment();
  });

  afterAll(async () => {
    await env?.stop();
  });

  /** XREAD BLOCK on the ack stream, as the seed tells applications to wait. */
  async function readAck(key: string, uuid: string): Promise<Record<string, string> | undefined> {
    const reply = await env.redis.xRead({ key: `{${key}}${uuid}`, id: '0-0' }, { BLOCK: 10_000 });
    const stream = Array.isArray(reply) ? reply[0] : undefined;
    const message = (stream as { messages?: { message: Record<string, string> }[] } | undefined)?.messages?.[0];
    return message?.message;
  }

  it('replicates a hash written with HSET to its row (the default, like `# =`)', async () => {
    await env.redis.hSet('person:1', { first_name: 'James', last_name: 'Bond', age: '42' });
    await eventually('person 1 row', async () => (await env.row('persons', '1')) !== undefined);
    expect(await env.row('persons', '1')).toMatchObject({ first: 'James', last: 'Bond', age: 42 });
  });

  it('acknowledges `# =<uuid>` with status done once the row is written', async () => {
    const uuid = randomUUID();
    await env.redis.sendCommand(['HSET', 'person:007', 'first_name', 'James', 'last_name', 'Bond', 'age', '42', '#', `=${uuid}`]);
    expect(await readAck('person:007', uuid)).toEqual({ status: 'done' });
    expect(await env.row('persons', '007')).toMatchObject({ first: 'James' });
    // The flag field never stays in the hash.
    expect(await env.redis.hExists('person:007', '#')).toBe(0);
  });

  it('`# +` keeps the hash in Redis and does not replicate it', async () => {
    const uuid = randomUUID();
    await env.redis.sendCommand(['HSET', 'person:8', 'first_name', 'Not', 'last_name', 'Replicated', 'age', '1', '#', `+${uuid}`]);
    expect(await readAck('person:8', uuid)).toEqual({ status: 'done' });
    expect(await env.redis.hGet('person:8', 'first_name')).toBe('Not');
    expect(await env.row('persons', '8')).toBeUndefined();
  });

  it('`# -` deletes the hash in Redis and keeps the row', async () => {
    await env.redis.hSet('person:9', { first_name: 'Kept', last_name: 'Row', age: '9' });
    await eventually('person 9 row', async () => (await env.row('persons', '9')) !== undefined);
    const uuid = randomUUID();
    await env.redis.sendCommand(['HSET', 'person:9', '#', `-${uuid}`]);
    expect(await readAck('person:9', uuid)).toEqual({ status: 'done' });
    expect(await env.redis.exists('person:9')).toBe(0);
    expect(await env.row('persons', '9')).toMatchObject({ first: 'Kept' });
  });

  it('`# ~` deletes the hash and the row', async () => {
    await env.redis.hSet('person:10', { first_name: 'Gone', last_name: 'Soon', age: '10' });
    await eventually('person 10 row', async () => (await env.row('persons', '10')) !== undefined);
    const uuid = randomUUID();
    await env.redis.sendCommand(['HSET', 'person:10', '#', `~${uuid}`]);
    expect(await readAck('person:10', uuid)).toEqual({ status: 'done' });
    expect(await env.redis.exists('person:10')).toBe(0);
    expect(await env.row('persons', '10')).toBeUndefined();
  });

  it('DEL removes the row', async () => {
    await env.redis.hSet('car:1', { id: 'ABC-123', color: 'red' });
    await eventually('car 1 row', async () => (await env.row('cars', '1')) !== undefined);
    expect(await env.row('cars', '1')).toMatchObject({ id: 'ABC-123', color: 'red' });
    await env.redis.del('car:1');
    await eventually('car 1 row deleted', async () => (await env.row('cars', '1')) === undefined);
  });

  it('an expired hash removes its row', async () => {
    await env.redis.hSet('car:2', { id: 'XYZ-9', color: 'blue' });
    await eventually('car 2 row', async () => (await env.row('cars', '2')) !== undefined);
    await env.redis.pExpire('car:2', 100);
    await eventually('car 2 row deleted after expiry', async () => (await env.row('cars', '2')) === undefined);
  });

  it('updates and partial hashes: the row follows the hash, absent fields become NULL', async () => {
    await env.redis.hSet('person:11', { first_name: 'A', last_name: 'B', age: '1' });
    await env.redis.hSet('person:11', { age: '2' });
    await env.redis.hDel('person:11', 'last_name');
    await eventually('person 11 at its last state', async () => (await env.row('persons', '11'))?.['last'] === null);
    expect(await env.row('persons', '11')).toMatchObject({ first: 'A', last: null, age: 2 });
  });
});
