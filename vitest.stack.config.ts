import { defineConfig } from 'vitest/config';

/**
 * The Redis Stack suite (`npm run test:stack`): the seed's end-to-end scenarios against the real RedisGears 2
 * module in `redis/redis-stack-server:7.2.0-v13` and `mysql:8.0`, started with testcontainers. Kept out of the
 * default `npm test` because it needs a Docker engine; where none is reachable, the global setup prints one
 * line and every test skips, so the run still exits 0.
 */
export default defineConfig({
  test: {
    include: ['test/stack/**/*.test.ts'],
    globalSetup: ['test/stack/docker-engine.global-setup.ts'],
    // Pulling and starting two images dominates; the tests themselves wait seconds at most.
    testTimeout: 60_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
});
