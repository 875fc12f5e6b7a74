/**
 * A redeploy under a running worker (`writebehind deploy` again, with another config): the worker notices a
 * deployed config that no longer matches its own for a writer and stops taking that writer's batches, rather
 * than apply records captured under the new config with its old one. Records of the new config are refused
 * exactly (the library stamps each batch descriptor with the writer's capture config): they stay pending in
 * Redis, and the worker restarted with the deployed config writes them. The CLI worker exits 2 naming the
 * field; an in-process service stops only that writer and shows it in /metrics. A backlog cut under an earlier
 * deployment is still written by a worker whose config is the deployed one.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deployLibrary } from '../../src/deploy/deploy.js';
import { parseConfig, type WriteBehindConfig } from '../../src/shared/config.js';
import { ConfigError } from '../../src/shared/errors.js';
import { writerKeys } from '../../src/shared/keys.js';
import { silentLogger } from '../../src/shared/log.js';
import { startWorkerService, type WorkerService } from '../../src/worker/worker-service.js';
import { SEED_CONFIG } from '../scenarios/seed-scenarios.js';
import { exited, startPipeline, until, type Pipeline } from './pipeline-helpers.js';

let p: Pipeline | undefined;
let service: WorkerService | undefined;

afterEach(async () => {
  await service?.close();
  service = undefined;
  await p?.close();
  p = undefined;
});

const [PERSONS, CARS] = SEED_CONFIG.writers;

/** The example config with its writers changed. */
function configWith(persons: object, cars: object): WriteBehindConfig {
  const result = parseConfig({ ...SEED_CONFIG, writers: [{ ...PERSONS, ...persons }, { ...CARS, ...cars }] });
  if (!result.ok) throw new Error(result.message);
  return result.config;
}

function configFile(pipeline: Pipeline, name: string, config: WriteBehindConfig): string {
  const file = join(dirname(pipeline.configFile), `${name}.json`);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

const count = async (pipeline: Pipeline, sql: string) => (await pipeline.db.query<unknown[]>(sql)).length;

/** Resolves with the exit code, or 'still running' after `ms`. */
function exitedWithin(child: Parameters<typeof exited>[0], ms: number): Promise<number | string> {
  return Promise.race([exited(child), new Promise<string>((resolve) => setTimeout(() => resolve('still running'), ms).unref())]);
}

describe('a redeploy under a running worker', () => {
  it('exits 2 naming the field when the writer\'s table changed, and leaves what the new config captured pending for the worker restarted with it', { timeout: 60_000 }, async () => {
    p = await startPipeline('wb_redeploy_a');
    const pipeline = p;
    await pipeline.db.query('CREATE TABLE people (person_id VARCHAR(64) PRIMARY KEY, first VARCHAR(20), last VARCHAR(255), age INT)');
    const child = pipeline.spawnWorker('redeploy-a');
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await pipeline.client.hSet('person:before', { first_name: 'Before' });
    await until(() => count(pipeline, "SELECT 1 FROM persons WHERE person_id = 'before'"), (n) => n === 1, 15_000);

    const moved = configWith({ table: 'people' }, {});
    await deployLibrary({ redisUrl: pipeline.runtime.url, config: moved });
    // Captured under the new config at once, before any timer of the worker's could have looked.
    await pipeline.client.hSet('person:after', { first_name: 'After' });

    expect(await exitedWithin(child, 20_000), stderr).toBe(2);
    expect(stderr).toContain('writers[0].table');
    expect(stderr).toContain('PersonsWriteBehind');
    expect(stderr).toContain('restart the worker with the deployed config');
    // The stale worker neither wrote it (to its table or the new one) nor dead-lettered it: it waits in Redis.
    const keys = writerKeys('PersonsWriteBehind');
    expect(await count(pipeline, "SELECT 1 FROM persons WHERE person_id = 'after'")).toBe(0);
    expect(await count(pipeline, "SELECT 1 FROM people WHERE person_id = 'after'")).toBe(0);
    expect(await pipeline.client.xLen(keys.deadLetters)).toBe(0);
    expect(await pipeline.client.xLen(keys.changes)).toBeGreaterThan(0);

    // Restarted with the deployed config, under the same consumer name: it replays its own pending batch at once.
    const restarted = pipeline.spawnWorker('redeploy-a', ['--config', configFile(pipeline, 'moved', moved)]);
    await until(() => count(pipeline, "SELECT 1 FROM people WHERE person_id = 'after'"), (n) => n === 1, 20_000);
    expect(await count(pipeline, "SELECT 1 FROM persons WHERE person_id = 'after'")).toBe(0);
    expect(await pipeline.client.xLen(keys.deadLetters)).toBe(0);
    // What the stale worker had committed is not applied again (`applied` counts the row's writes).
    expect(await pipeline.db.query("SELECT applied FROM persons WHERE person_id = 'before'")).toEqual([{ applied: 1 }]);
    restarted.kill('SIGTERM');
    expect(await exited(restarted)).toBe(0);
  });

  it('in-process, stops only the writer whose capture changed, with a gauge in /metrics, and keeps writing the others', { timeout: 60_000 }, async () => {
    p = await startPipeline('wb_redeploy_b');
    const pipeline = p;
    service = await startWorkerService({ redisUrl: pipeline.runtime.url, mysqlUrl: pipeline.db.url, config: pipeline.config, consumer: 'redeploy-b', log: silentLogger, metricsPort: 0 });
    const metrics = async () => (await fetch(`http://127.0.0.1:${service!.metricsPort}/metrics`)).text();
    expect(await metrics()).toContain('writebehind_deployed_config_mismatch{writer="CarsWriteBehind"} 0');

    // Cars loses its `color` mapping; nothing is written to cars: the worker must notice by itself.
    await deployLibrary({ redisUrl: pipeline.runtime.url, config: configWith({}, { mappings: { id: 'id' } }) });
    const text = await until(metrics, (t) => t.includes('writebehind_deployed_config_mismatch{writer="CarsWriteBehind"} 1'), 15_000);
    expect(text).toContain('writebehind_deployed_config_mismatch{writer="PersonsWriteBehind"} 0');
    const mismatch = await service.configMismatch;
    expect(mismatch).toBeInstanceOf(ConfigError);
    expect(mismatch.message).toContain('writers[1].mappings');

    await pipeline.client.hSet('car:c1', { id: 'c1', color: 'red' });
    await pipeline.client.hSet('person:still', { first_name: 'Still' });
    await until(() => count(pipeline, "SELECT 1 FROM persons WHERE person_id = 'still'"), (n) => n === 1, 15_000);
    expect(await count(pipeline, "SELECT 1 FROM cars WHERE car_id = 'c1'")).toBe(0);
    expect(await pipeline.client.xLen(writerKeys('CarsWriteBehind').changes)).toBeGreaterThan(0);
  });

  it('writes a backlog cut under an earlier deployment when its config is the deployed one', { timeout: 60_000 }, async () => {
    p = await startPipeline('wb_redeploy_c');
    const pipeline = p;
    const keys = writerKeys('CarsWriteBehind');
    await pipeline.client.hSet('car:old', { id: 'old', color: 'blue' });
    // Cut by the library as first deployed (no worker runs): its descriptor is of that deployment.
    await pipeline.client.sendCommand(['TFCALL', `${SEED_CONFIG.name}.cut`, '1', keys.changes, '0']);
    expect(await pipeline.client.xLen(keys.batches)).toBe(1);
    const renamed = configWith({}, { keysPrefix: 'vehicle' });
    await deployLibrary({ redisUrl: pipeline.runtime.url, config: renamed });

    const child = pipeline.spawnWorker('redeploy-c', ['--config', configFile(pipeline, 'renamed', renamed)]);
    await until(() => count(pipeline, "SELECT 1 FROM cars WHERE car_id = 'old'"), (n) => n === 1, 15_000);
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });
});
