/**
 * `backfill` and `verify` of a writer with `partitions: 4`: a re-capture goes into the key's partition's stream
 * (never the unpartitioned one, which a partitioned library no longer writes), and verify waits for every
 * partition's commits before it compares.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackfill } from '../../src/cli/actions/backfill.js';
import { runVerify } from '../../src/cli/actions/verify.js';
import { partitionOfKey, partitionsOf, writerKeys } from '../../src/shared/keys.js';
import { RecordField } from '../../src/shared/protocol.js';
import type { WorkerService } from '../../src/worker/worker-service.js';
import { withoutCapture } from './uncaptured-writes.js';
import { readStream } from '../fixtures/library-harness.js';
import { exampleConfig, startPipeline, waitDrained, type Pipeline, type TestClient } from './pipeline-helpers.js';

const WRITER = 'PersonsWriteBehind';
const PARTITIONS = 4;
const KEYS = 200;
let p: Pipeline;
let direct: TestClient;
let worker: WorkerService | undefined;

beforeAll(async () => {
  const persons = { ...exampleConfig().writers[0]!, partitions: PARTITIONS };
  p = await startPipeline('reconcile_partitions', exampleConfig({ writers: [persons] }), { settingsCheckMs: 0 });
  direct = await p.newDirectClient();
});

afterAll(async () => {
  await worker?.close();
  await p?.close();
});

const quiet = () => undefined;

describe('backfill and verify of a partitioned writer', () => {
  it("backfill captures each key into its partition's stream; after the drain verify finds no difference", async () => {
    await withoutCapture(direct, async () => {
      for (let i = 0; i < KEYS; i++) await direct.hSet(`person:b${i}`, { first_name: `F${i}`, age: String(i % 90) });
    });
    const result = await runBackfill({ writer: WRITER, redis: p.runtime.url, config: p.configFile }, undefined, quiet);
    expect(result.state.captured).toBe(KEYS);
    expect(await direct.xLen(writerKeys(WRITER).changes)).toBe(0);
    const misplaced: string[] = [];
    let records = 0;
    for (const [index, keys] of partitionsOf(WRITER, PARTITIONS).entries()) {
      for (const entry of await readStream(direct, keys.changes)) {
        records++;
        const key = entry.fields[RecordField.key]!;
        if (partitionOfKey(key, PARTITIONS) !== index) misplaced.push(`${key} in ${keys.changes}`);
      }
    }
    expect(misplaced).toEqual([]);
    expect(records).toBe(KEYS);

    worker = await p.startWorker();
    for (const keys of partitionsOf(WRITER, PARTITIONS)) await waitDrained(direct, keys);
    const report = await runVerify({ writer: WRITER, redis: p.runtime.url, mysql: p.db.url, config: p.configFile }, quiet, quiet);
    expect({ missing: report.missing.count, stale: report.stale.count, orphan: report.orphan.count }).toEqual({ missing: 0, stale: 0, orphan: 0 });
    expect(report.keys).toBeGreaterThanOrEqual(KEYS);
  }, 60_000);

  it("verify waits for the partitions' commits: without a worker it fails naming a partition's stream", async () => {
    await worker?.close();
    worker = undefined;
    for (let i = 0; i < 20; i++) await p.client.hSet(`person:v${i}`, { first_name: `V${i}` });
    const verifying = runVerify({ writer: WRITER, redis: p.runtime.url, mysql: p.db.url, config: p.configFile, waitMs: 300 }, quiet, quiet);
    await expect(verifying).rejects.toThrow(/has not committed wb:changes:PersonsWriteBehind:\d\/4:/);
  }, 30_000);
});
