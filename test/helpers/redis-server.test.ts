import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from './redis-server.js';

describe('startRedisServer', () => {
  let first: RedisServer;
  beforeAll(async () => {
    first = await startRedisServer();
  });
  afterAll(async () => {
    await first.stop();
  });

  // A test that asked for a port something already serves would otherwise run against that server (a leftover,
  // another test's) and pass or fail for reasons of its own.
  it('refuses a port another server already answers on, naming the port', async () => {
    await expect(startRedisServer({ port: first.port })).rejects.toThrow(String(first.port));
  });
});
