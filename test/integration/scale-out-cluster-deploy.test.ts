/**
 * A deploy on a Redis Cluster loads the library primary by primary (the runtime loads it on its own shard, then
 * on its peers'), so for a moment the primaries show different configs. That is a deploy in progress, not a
 * mismatch: a worker waits (a bounded time) until every primary shows the same config before it judges it, at
 * start-up and while it runs. The half-done deploy is made here by loading the library on one runtime only
 * (`_rg_internals.function LOAD …`, what a runtime sends its peers), the rest later.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { chaosHashFields } from '../../bench/chaos/chaos-load.js';
import { CHAOS_PREFIX, CHAOS_TABLE, chaosConfig } from '../../bench/chaos/chaos-schema.js';
import { writeConfigFile } from '../../bench/support/bench-config.js';
import { startCliProcess, type CliProcess } from '../../bench/support/cli-process.js';
import { waitFor } from '../../bench/support/wait.js';
import { libraryCodeFor } from '../../src/deploy/library-code.js';
import type { WriteBehindConfig } from '../../src/shared/config.js';
import { keySlot } from '../../src/shared/key-slot.js';
import { useChaosCluster } from '../fixtures/chaos-cluster.js';

const h = useChaosCluster('deploy_rolling');
const keyOf = (id: number) => `${CHAOS_PREFIX}:${id}`;

/** The fixture's config (deployed before the file) and one that captures the writer otherwise (no `age`). */
const before = chaosConfig();
const { age: _age, ...withoutAge } = before.writers[0]!.mappings;
const after: WriteBehindConfig = { ...before, writers: [{ ...before.writers[0]!, mappings: withoutAge }] };

/** Loads `config` on shard `shard`'s runtime only, as a deploy reaching that primary first does. */
async function loadOn(shard: number, config: WriteBehindConfig): Promise<void> {
  const runtime = createClient({ url: h.cluster.shards[shard]!.url });
  await runtime.connect();
  try {
    expect(String(await runtime.sendCommand(['_rg_internals.function', 'LOAD', 'REPLACE', 'CONFIG', JSON.stringify(config), libraryCodeFor(config.name)]))).toBe('OK');
  } finally {
    await runtime.close();
  }
}

async function loadEverywhere(config: WriteBehindConfig): Promise<void> {
  for (const shard of [0, 1, 2]) await loadOn(shard, config);
}

function startWorker(config: WriteBehindConfig, env: Record<string, string> = {}): CliProcess {
  const file = writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-cluster-deploy-')), config);
  const worker = startCliProcess(['worker', '--redis', h.cluster.shards[0]!.url, '--mysql', h.db.url, '--config', file], env);
  h.workers.push(worker);
  return worker;
}

/** The first id from `from` on whose key lies on shard `shard`. */
async function idOn(shard: number, from: number): Promise<number> {
  for (let id = from; ; id++) if ((await h.cluster.ownerOf(keySlot(keyOf(id)))) === shard) return id;
}

/** One id per shard from `from` on, written at `version`; resolves once each row has it. */
async function writeOnEveryShard(from: number, version: number, worker: CliProcess): Promise<void> {
  const ids = [await idOn(0, from), await idOn(1, from), await idOn(2, from)];
  for (const id of ids) await h.client.hSet(keyOf(id), chaosHashFields(id, version));
  await waitFor(`rows at version ${version}`, async () => {
    expect(worker.isRunning(), worker.tail()).toBe(true);
    const rows = await h.db.query<Array<{ version: number }>>(`SELECT version FROM ${CHAOS_TABLE} WHERE person_id IN (${ids.join(', ')})`);
    return rows.length === 3 && rows.every((row) => Number(row.version) === version);
  }, 30_000, 200);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a deploy on a Redis Cluster, primary by primary, under a worker', () => {
  it('a worker restarted with the new config while the deploy has reached one primary only waits for the others, then writes', async () => {
    await loadEverywhere(before);
    await loadOn(0, after);
    const worker = startWorker(after);
    await sleep(4_000);
    expect(worker.isRunning(), `the worker stopped during the deploy:\n${worker.tail()}`).toBe(true);
    await loadOn(1, after);
    await loadOn(2, after);
    await writeOnEveryShard(5000, 3, worker);
    await worker.stop();
  }, 90_000);

  it('a SIGTERM while the worker waits at start-up for a half-done deploy stops it at once (exit 0), not after the wait', async () => {
    await loadEverywhere(before);
    await loadOn(0, after);
    const worker = startWorker(after, { LOG_LEVEL: 'info' });
    await waitFor('the worker waiting for the primaries to agree', async () => worker.tail().includes('a deploy under way'), 20_000, 100);
    const signalled = Date.now();
    worker.signal('SIGTERM');
    expect(await worker.exited, worker.tail()).toBe(0);
    expect(Date.now() - signalled, worker.tail()).toBeLessThan(3_000);
    await loadEverywhere(before);
  }, 90_000);

  it('a redeploy that leaves the capture as it is (another batch size, as a version upgrade does) is nothing to a running worker, also half done', async () => {
    await loadEverywhere(after);
    const worker = startWorker(after);
    await writeOnEveryShard(5100, 4, worker);
    const batchOnly = { ...after, batch: { size: 100, maxDelayMs: 40 } };
    await loadOn(2, batchOnly);
    await sleep(6_000);
    expect(worker.isRunning(), worker.tail()).toBe(true);
    await loadOn(0, batchOnly);
    await loadOn(1, batchOnly);
    await writeOnEveryShard(5100, 5, worker);
    await worker.stop();
  }, 90_000);

  it('a running worker does not stop while a deploy that changes its writer is half done, and stops (exit 2, naming the field) once every primary has it', async () => {
    await loadEverywhere(after);
    const worker = startWorker(after);
    await writeOnEveryShard(5200, 6, worker);
    await loadOn(1, before);
    // Past a poll of the listing (every 5 s), and a batch the new library on shard 1 cut (another stamp).
    const id = await idOn(1, 5200);
    await h.client.hSet(keyOf(id), chaosHashFields(id, 7));
    await sleep(6_000);
    expect(worker.isRunning(), `the worker stopped during the deploy:\n${worker.tail()}`).toBe(true);
    await loadOn(0, before);
    await loadOn(2, before);
    expect(await worker.exited).toBe(2);
    expect(worker.tail()).toContain('mappings');
    // The change captured by the new library was not written with the worker's stale config.
    const [row] = await h.db.query<Array<{ version: number }>>(`SELECT version FROM ${CHAOS_TABLE} WHERE person_id = ?`, [id]);
    expect(Number(row?.version)).toBe(6);
  }, 90_000);
});
