/**
 * Deploying on the runtime: the CLI's runDeploy with a config file, a redeploy over a backlog (streams, cursors
 * and the batcher's position survive), and configs the library rejects (the load fails with its message).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runDeploy } from '../../src/cli/actions/deploy.js';
import { deployLibrary, fetchDeployedLibrary } from '../../src/deploy/deploy.js';
import { ConfigError, LibraryLoadError } from '../../src/shared/errors.js';
import { exampleConfig, testConfig } from '../fixtures/library-configs.js';
import { captured, PERSONS, readMeta, readStream, useLibraryHarness } from '../fixtures/library-harness.js';

const VERSION: string = JSON.parse((await import('node:fs')).readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
const dir = mkdtempSync(join(tmpdir(), 'wb-deploy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const h = useLibraryHarness({ config: testConfig({ batchSize: 3 }), flush: false });

function configFile(name: string, config: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

describe('deploy', () => {
  it('runDeploy loads the config file and prints what it deployed', async () => {
    const lines: string[] = [];
    const deployed = await runDeploy({ redis: h.url, config: configFile('example.json', { ...exampleConfig, name: 'Example' }) }, (line) => lines.push(line));
    expect(deployed).toEqual({ name: 'Example', version: VERSION, shards: 1 });
    expect(lines.join('\n')).toContain(`deployed library Example ${VERSION}`);
    expect(await fetchDeployedLibrary(h.url, 'Example')).toEqual({ name: 'Example', version: VERSION });
    expect(await fetchDeployedLibrary(h.url, 'Missing')).toBeNull();
    await h.client.sendCommand(['TFUNCTION', 'DELETE', 'Example']);
  });

  it('the built CLI deploys, taking the URL from REDIS_URL', async () => {
    const path = configFile('cli.json', { ...exampleConfig, name: 'FromCli' });
    const { stdout } = await promisify(execFile)('node', ['dist/src/cli/index.js', 'deploy', '--config', path], { env: { ...process.env, REDIS_URL: h.url } });
    expect(stdout).toContain(`deployed library FromCli ${VERSION}`);
    expect(await fetchDeployedLibrary(h.url, 'FromCli')).toEqual({ name: 'FromCli', version: VERSION });
    await h.client.sendCommand(['TFUNCTION', 'DELETE', 'FromCli']);
  });

  it('stores the config as given, shown by TFUNCTION LIST', async () => {
    const reply = (await h.client.sendCommand(['TFUNCTION', 'LIST', 'LIBRARY', 'WriteBehind'])) as unknown[][];
    const lib = reply[0]!;
    const configuration = lib[lib.indexOf('configuration') + 1];
    expect(JSON.parse(String(configuration))).toEqual(testConfig({ batchSize: 3 }));
  });

  it('a redeploy keeps the backlog, the cursors and the batcher position', async () => {
    await h.client.flushAll();
    await h.deploy(testConfig({ batchSize: 3 }));
    for (let i = 1; i <= 4; i++) await h.client.hSet(`person:${i}`, 'age', String(i));
    const before = await readStream(h.client, PERSONS.changes);
    const metaBefore = await readMeta(h.client, PERSONS);
    expect(metaBefore).toMatchObject({ captured: '3', batches: '1' }); // the 4th record is open, counted in memory

    await h.deploy(testConfig({ batchSize: 3 }));
    expect(await readStream(h.client, PERSONS.changes)).toEqual(before);
    expect(await readMeta(h.client, PERSONS)).toEqual(metaBefore);
    // Capture goes on, and the batch that was open is completed, not restarted or re-counted.
    await h.client.hSet('person:5', 'age', '5');
    await h.client.hSet('person:6', 'age', '6');
    const batches = await readStream(h.client, PERSONS.batches);
    expect(batches.map((b) => b.fields['count'])).toEqual(['3', '3']);
    expect(batches[1]?.fields['from']).toBe(batches[0]?.fields['to']);
    expect((await captured(h.client)).length).toBe(6);
  });

  it('a runtime restart keeps the library, the backlog and the batcher position (no record counted twice)', async () => {
    await h.client.flushAll();
    await h.deploy(testConfig({ batchSize: 3 }));
    for (let i = 1; i <= 4; i++) await h.client.hSet(`person:${i}`, 'age', String(i));
    const metaBefore = await readMeta(h.client, PERSONS);
    await h.restartRuntime();
    expect(await readMeta(h.client, PERSONS)).toEqual(metaBefore);
    await h.client.hSet('person:5', 'age', '5');
    await h.client.hSet('person:6', 'age', '6');
    const batches = await readStream(h.client, PERSONS.batches);
    expect(batches.map((b) => [b.fields['count'], b.fields['from'] === (batches[0]?.fields['to'] ?? '')])).toEqual([['3', false], ['3', true]]);
    expect(await readMeta(h.client, PERSONS)).toMatchObject({ captured: '6', batches: '2' });
  });

  it('a config the library rejects fails the load with the library message naming the field, and the old library stays', async () => {
    const bad = testConfig();
    (bad['writers'] as Record<string, unknown>[])[0]!['table'] = 'persons; DROP TABLE x';
    const error = await deployLibrary({ redisUrl: h.url, config: bad }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LibraryLoadError);
    expect((error as Error).message).toMatch(/^Failed loading library: invalid write-behind config: writers\[0\]\.table: must be a SQL table name/);
    expect(await fetchDeployedLibrary(h.url, 'WriteBehind')).toEqual({ name: 'WriteBehind', version: VERSION });
  });

  it('runDeploy rejects an invalid config file before sending it, naming the field', async () => {
    const path = configFile('bad.json', { name: 'WriteBehind', writers: [{ name: 'P', keysPrefix: 'p*', table: 't', primaryKey: 'id', mappings: { a: 'a' } }] });
    await expect(runDeploy({ redis: h.url, config: path }, () => undefined)).rejects.toThrow(/writers\[0\]\.keysPrefix: must be a literal prefix/);
    await expect(runDeploy({ redis: 'http://x', config: path }, () => undefined)).rejects.toBeInstanceOf(ConfigError);
  });
});
