/**
 * `writebehind worker` (the built CLI, as a user runs it) against the config the library was deployed with: a
 * worker whose config names a writer the deployed library lacks, or a writer the library captures differently
 * (table, key, mappings, partitions, onExpire), exits 2 at start-up naming the writer and the field and how to
 * fix it, instead of retrying for ever; the config the library was deployed with starts and writes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { exampleConfig, exited, startPipeline, until, type Pipeline } from './pipeline-helpers.js';
import { dirname } from 'node:path';

let p: Pipeline;

beforeAll(async () => {
  p = await startPipeline('worker_deployed');
  await p.db.query('CREATE TABLE orders (order_id VARCHAR(64) PRIMARY KEY, total VARCHAR(64))');
});

afterAll(async () => {
  await p?.close();
});

/** A config file next to the pipeline's, holding `config`. */
function configFile(name: string, config: unknown): string {
  const file = join(dirname(p.configFile), `${name}.json`);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

const worker = (file: string) => runCli(['worker', '--redis', p.runtime.url, '--mysql', p.db.url, '--config', file], { timeoutMs: 15_000 });

describe('worker start-up against the deployed library', () => {
  it('exits 2 when its config names a writer the deployed library does not have, naming it and the fix', async () => {
    const orders = { name: 'OrdersWriteBehind', keysPrefix: 'order', table: 'orders', primaryKey: 'order_id', mappings: { total: 'total' } };
    const file = configFile('with-orders', { ...exampleConfig(), writers: [...exampleConfig().writers, orders] });
    const result = await worker(file);
    expect(result.timedOut, result.stderr).toBe(false);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain("writers[2].name: writer 'OrdersWriteBehind'");
    expect(result.stderr).toContain('writebehind deploy');
  });

  it('exits 2 when a writer\'s columns differ from the deployed library\'s, naming the field', async () => {
    const [persons, cars] = exampleConfig().writers;
    const { age: _age, ...withoutAge } = persons!.mappings;
    const file = configFile('fewer-columns', { ...exampleConfig(), writers: [{ ...persons, mappings: withoutAge }, cars] });
    const result = await worker(file);
    expect(result.timedOut, result.stderr).toBe(false);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('writers[0].mappings');
    expect(result.stderr).toContain('PersonsWriteBehind');
  });

  it('starts and writes with the config the library was deployed with', { timeout: 30_000 }, async () => {
    const child = p.spawnWorker('deployed-config');
    await p.client.hSet('person:wd1', { first_name: 'Same' });
    const row = await until(async () => (await p.db.query<unknown[]>("SELECT 1 FROM persons WHERE person_id = 'wd1'")).length, (n) => n === 1, 15_000);
    expect(row).toBe(1);
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });
});
