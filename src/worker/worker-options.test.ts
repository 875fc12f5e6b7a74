import { describe, expect, it } from 'vitest';
import { parseConfig } from '../shared/config.js';
import { resolveWorkerOptions, type WorkerOptions } from './worker-options.js';

const parsed = parseConfig({ name: 'W', writers: [{ name: 'P', keysPrefix: 'p', table: 't', primaryKey: 'id', mappings: { a: 'a' } }], batch: { size: 10, maxDelayMs: 250 } });
if (!parsed.ok) throw new Error(parsed.message);
const base: WorkerOptions = { config: parsed.config, connectRedis: async () => { throw new Error('unused'); }, batchWriter: { write: async () => { throw new Error('unused'); }, writeMany: async () => { throw new Error('unused'); }, close: async () => undefined } };

describe('resolveWorkerOptions', () => {
  it('fills documented defaults and freezes the result', () => {
    const options = resolveWorkerOptions(base);
    expect(options).toMatchObject({ claimMinIdleMs: 30_000, claimIntervalMs: 10_000, blockMs: 250, readCount: 10, rangePageSize: 5000, groupBytes: 8 * 1024 * 1024, retryInitialDelayMs: 100, retryMaxDelayMs: 30_000, waitReplicas: 0, waitReplicasTimeoutMs: 1000 });
    expect(options.consumer).toMatch(/-\d+$/);
    expect(Object.isFrozen(options)).toBe(true);
  });

  it.each([
    [{ readCount: 0 }, 'readCount must be a positive integer'],
    [{ claimMinIdleMs: 1.5 }, 'claimMinIdleMs must be a positive integer'],
    [{ retryInitialDelayMs: 500, retryMaxDelayMs: 100 }, 'retryMaxDelayMs must be at least retryInitialDelayMs'],
    [{ consumer: 'has space' }, 'consumer must be a non-empty name without spaces'],
    [{ waitReplicas: -1 }, 'waitReplicas must be a non-negative integer'],
    [{ waitReplicasTimeoutMs: 0 }, 'waitReplicasTimeoutMs must be a positive integer'],
  ])('rejects %o naming the field', (override, message) => {
    expect(() => resolveWorkerOptions({ ...base, ...override })).toThrow(message);
  });
});
