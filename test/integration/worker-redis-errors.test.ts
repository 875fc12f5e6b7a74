/**
 * A failed stream command names the stream it was for: the worker logs the error's context, and an XREADGROUP's
 * said `key: 'GROUP'` (its first argument) where an operator looks for the stream.
 */
import { describe, expect, it } from 'vitest';
import { RedisStreamClient } from '../../src/worker/redis/redis-stream-client.js';
import { RedisCommandError } from '../../src/shared/errors.js';
import { startRedisServer } from '../helpers/redis-server.js';

describe('a stream command that fails', () => {
  it("names the stream in the error's context, not the command's first argument", async () => {
    const server = await startRedisServer();
    const client = await RedisStreamClient.connect(server.url, { reconnect: false });
    try {
      // No such group: redis-server refuses the read.
      const error = await client.readGroup('wb:changes:{W}', 'nosuchgroup', 'c', '>', 10).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(RedisCommandError);
      expect((error as RedisCommandError).context).toMatchObject({ command: 'XREADGROUP', key: 'wb:changes:{W}' });
    } finally {
      await client.close();
      await server.stop();
    }
  });
});
