/**
 * The seed scenarios (test/scenarios/seed-scenarios.ts) against the real RedisGears 2.0.23 module in Redis
 * Stack 7.2, with MySQL 8.0. Every test skips (one line from the global setup says why) where no Docker engine
 * is reachable; the same scenarios run on the local runtime in every `npm test` (seed-local.test.ts).
 */
import { afterAll, beforeAll, describe, inject } from 'vitest';
import { seedScenarios, type StartedSeedEnvironment } from '../scenarios/seed-scenarios.js';
import { startStackEnvironment } from './stack-environment.js';

const skipReason = inject('stackSkipReason');

describe.skipIf(skipReason !== null)('Redis Stack 7.2 (RedisGears 2.0.23) + MySQL 8.0: the seed scenarios', () => {
  let env: StartedSeedEnvironment | undefined;
  beforeAll(async () => {
    env = await startStackEnvironment();
  });
  afterAll(() => env?.stop());
  seedScenarios(() => env!);
});
