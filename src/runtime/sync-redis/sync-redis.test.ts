import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import vm from 'node:vm';
import { SyncRedis } from './sync-redis.js';
import { startRedisServer, type RedisServer } from '../../../test/helpers/redis-server.js';

describe('SyncRedis', () => {
  let server: RedisServer;
  let redis: SyncRedis;
  beforeAll(async () => {
    server = await startRedisServer();
    redis = await SyncRedis.create(server.url);
  });
  afterAll(async () => {
    await redis.close();
    await server.stop();
  });

  it('never hands a call the reply of a call whose wait was terminated by a timeout', () => {
    const context = vm.createContext({ slowCall: () => redis.call(['BLPOP', 'no-such-list', '0.3']) });
    expect(() => vm.runInContext('slowCall()', context, { timeout: 50 })).toThrow(/timed out/);
    // The BLPOP reply arrives after this call was sent: it must be dropped, not returned here.
    expect(redis.call(['ECHO', 'mine'])).toEqual({ type: 'blob', value: Buffer.from('mine') });
    expect(redis.call(['ECHO', 'next'])).toEqual({ type: 'blob', value: Buffer.from('next') });
  });

  it('selects the database again after a terminated SELECT', () => {
    redis.call(['SET', 'where', 'db0'], 0);
    redis.call(['SET', 'where', 'db5'], 5);
    const context = vm.createContext({ slowCall: () => redis.batch([['BLPOP', 'no-such-list', '0.3']], 7) });
    expect(() => vm.runInContext('slowCall()', context, { timeout: 50 })).toThrow(/timed out/);
    expect(redis.call(['GET', 'where'], 5)).toEqual({ type: 'blob', value: Buffer.from('db5') });
    expect(redis.call(['GET', 'where'], 0)).toEqual({ type: 'blob', value: Buffer.from('db0') });
  });
});
