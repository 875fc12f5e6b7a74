/**
 * Decides once per run whether the Redis Stack suite can run: testcontainers must reach a container engine.
 * When it cannot, one line says why and the test files skip every test (they read the reason with inject).
 */
import type { TestProject } from 'vitest/node';
import { getContainerRuntimeClient } from 'testcontainers';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Why the suite cannot run here, or null when a container engine answered. */
    stackSkipReason: string | null;
  }
}

export const NO_ENGINE_MESSAGE = 'skipped: no Docker engine reachable — the Redis Stack 7.2 suite needs one';

export default async function setup(project: TestProject): Promise<void> {
  let reason: string | null = null;
  try {
    await getContainerRuntimeClient();
  } catch (error) {
    reason = `${NO_ENGINE_MESSAGE} (${error instanceof Error ? error.message : String(error)})`;
    console.log(reason);
  }
  project.provide('stackSkipReason', reason);
}
