/**
 * `writebehind status` as a monitoring script runs it: its exit code must tell a library that is not deployed on
 * the Redis it was pointed at from a healthy one, in text and in --json (which still prints the report).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { deployLibrary } from '../../src/deploy/deploy.js';
import { runCli } from '../helpers/cli.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { startRuntime, type StartedRuntime } from '../helpers/runtime.js';
import { exampleConfig } from './pipeline-helpers.js';

const CONFIG_FILE = fileURLToPath(new URL('../../config/example.json', import.meta.url));
let server: RedisServer;
let runtime: StartedRuntime;

beforeAll(async () => {
  server = await startRedisServer();
  runtime = await startRuntime(server);
});

afterAll(async () => {
  await runtime?.close();
  await server?.stop();
});

describe('status exit code', () => {
  it('exits 1 naming the library and the URL when the library is not deployed, and 0 once it is', async () => {
    const text = await runCli(['status', '--redis', runtime.url, '--config', CONFIG_FILE]);
    expect(text.code, text.stderr).toBe(1);
    expect(text.stdout).toContain('library WriteBehind: NOT DEPLOYED');
    expect(text.stderr).toContain(`error [NOT_DEPLOYED]: library WriteBehind is not deployed on ${runtime.url}`);
    expect(text.stderr).toContain('Unknown library WriteBehind');
    const json = await runCli(['status', '--redis', runtime.url, '--config', CONFIG_FILE, '--json']);
    expect(json.code, json.stderr).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ library: 'WriteBehind', redis: runtime.url, libraryVersion: null, libraryError: expect.stringContaining('Unknown library WriteBehind') });
    expect(report.writers[0]).toMatchObject({ writer: 'PersonsWriteBehind', failedCaptures: null });

    await deployLibrary({ redisUrl: runtime.url, config: exampleConfig() });
    const deployed = await runCli(['status', '--redis', runtime.url, '--config', CONFIG_FILE]);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(deployed.stdout).toMatch(/^library WriteBehind \d/);
  });
});
