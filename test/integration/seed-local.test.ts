/**
 * The seed scenarios (test/scenarios/seed-scenarios.ts) on the local runtime with MariaDB: the same code the
 * Redis Stack suite runs against the real module, proven here on every `npm test`.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { startLocalSeedEnvironment } from '../scenarios/seed-local-environment.js';
import { seedScenarios, type StartedSeedEnvironment } from '../scenarios/seed-scenarios.js';

describe('the seed README, end to end, on the local runtime + MariaDB', () => {
  let env: StartedSeedEnvironment | undefined;
  beforeAll(async () => {
    env = await startLocalSeedEnvironment();
  }, 30_000);
  afterAll(() => env?.stop());
  seedScenarios(() => env!);
});
