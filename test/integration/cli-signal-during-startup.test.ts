/**
 * A SIGTERM that reaches `writebehind worker`, `writebehind start` or `writebehind runtime` while it is still
 * starting is not lost and does not kill it mid-start: the command finishes starting, then stops as after any
 * SIGTERM, exit 0. A worker killed mid-start could die between a batch's MySQL COMMIT and its acknowledgement in
 * Redis, and that batch would be applied once more 30 s later by another worker; a runtime killed after it marked
 * itself running leaves the mark, and the next runtime counts an unclean stop, so a worker repairs everything.
 * Each start is held at its first Redis connection (a proxy that connects only when told) while the signal is
 * sent; a start held for good still ends, as its Redis connection gives up.
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, expect, it } from 'vitest';
import { spawnCli } from '../helpers/cli.js';
import { startHeldProxy, type HeldProxy } from '../helpers/held-proxy.js';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { RUNTIME_RUNNING_KEY } from '../../src/shared/keys.js';
import { connectTestClient } from '../helpers/redis-client.js';
import { exited, startPipeline, type Pipeline } from './pipeline-helpers.js';

let child: ChildProcess | undefined;
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited(child);
  }
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const portOf = (url: string) => Number(new URL(url).port);

/** Signals `command` while its start is held at Redis, then lets it go on; its exit and everything it printed. */
async function signalledWhileStarting(command: ChildProcess, proxy: HeldProxy): Promise<{ code: number | string; output: string }> {
  let output = '';
  command.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  command.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await proxy.connected;
  command.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  proxy.release();
  return { code: await exited(command), output };
}

/** Signals `command` while its start is held at Redis for good; its exit, how long after the signal, and its output. */
async function signalledWhileHeld(command: ChildProcess, proxy: HeldProxy): Promise<{ code: number | string; ms: number; output: string }> {
  let output = '';
  command.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  command.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await proxy.connected;
  const signalled = Date.now();
  command.kill('SIGTERM');
  const code = await exited(command);
  return { code, ms: Date.now() - signalled, output };
}

it('writebehind worker: a SIGTERM while it is still starting stops it cleanly once started (exit 0)', { timeout: 60_000 }, async () => {
  const p: Pipeline = await startPipeline('signal_starting');
  cleanups.push(() => p.close());
  const proxy = await startHeldProxy({ host: '127.0.0.1', port: portOf(p.runtime.url) });
  cleanups.push(() => proxy.close());
  child = spawnCli(['worker', '--redis', proxy.url, '--mysql', p.db.url, '--config', p.configFile, '--consumer', 'starting'], { LOG_LEVEL: 'info' });
  const { code, output } = await signalledWhileStarting(child, proxy);
  expect(code, output).toBe(0);
  expect(output).toContain('stopping: finishing the batch in flight');
});

it('writebehind start: a SIGTERM while it is still starting stops it cleanly once started (exit 0)', { timeout: 60_000 }, async () => {
  const server: RedisServer = await startRedisServer();
  cleanups.push(() => server.stop());
  const db: TestDatabase = await createTestDatabase('signal_starting_start');
  cleanups.push(() => db.drop());
  const proxy = await startHeldProxy({ host: '127.0.0.1', port: portOf(server.url) });
  cleanups.push(() => proxy.close());
  child = spawnCli(['start', '--redis', proxy.url, '--port', '0', '--mysql', db.url], { LOG_LEVEL: 'info' });
  const { code, output } = await signalledWhileStarting(child, proxy);
  expect(code, output).toBe(0);
  expect(output).toContain('stopping...');
});

it('writebehind runtime: a SIGTERM while it is still starting stops it cleanly once started (exit 0, its running mark removed)', { timeout: 60_000 }, async () => {
  const server: RedisServer = await startRedisServer();
  cleanups.push(() => server.stop());
  const proxy = await startHeldProxy({ host: '127.0.0.1', port: portOf(server.url) });
  cleanups.push(() => proxy.close());
  child = spawnCli(['runtime', '--redis', proxy.url, '--port', '0'], { LOG_LEVEL: 'info' });
  const { code, output } = await signalledWhileStarting(child, proxy);
  expect(code, output).toBe(0);
  expect(output).toContain('shutting down');
  const clients: Array<{ close(): Promise<unknown> }> = [];
  cleanups.push(() => Promise.all(clients.map((c) => c.close())));
  const direct = await connectTestClient(server.url, clients);
  expect(await direct.exists(RUNTIME_RUNNING_KEY)).toBe(0);
});

it('writebehind worker: a SIGTERM does not hold a start that waits on a Redis that never answers: it fails within seconds, exit 1, naming the URL', { timeout: 60_000 }, async () => {
  const p: Pipeline = await startPipeline('signal_never_answers');
  cleanups.push(() => p.close());
  const proxy = await startHeldProxy({ host: '127.0.0.1', port: portOf(p.runtime.url) }); // never released: Redis never answers
  cleanups.push(() => proxy.close());
  child = spawnCli(['worker', '--redis', proxy.url, '--mysql', p.db.url, '--config', p.configFile], { LOG_LEVEL: 'info' });
  const { code, ms, output } = await signalledWhileHeld(child, proxy);
  expect(code, output).toBe(1);
  expect(ms).toBeLessThan(20_000);
  expect(output).toContain(`cannot connect to Redis at ${proxy.url}: no reply within`);
});

it('writebehind backfill: a SIGTERM while it still waits for Redis stops it at once (exit 130, nothing done), not after the connect gives up', { timeout: 60_000 }, async () => {
  const server: RedisServer = await startRedisServer();
  cleanups.push(() => server.stop());
  const proxy = await startHeldProxy({ host: '127.0.0.1', port: portOf(server.url) }); // never released
  cleanups.push(() => proxy.close());
  child = spawnCli(['backfill', '--writer', 'PersonsWriteBehind', '--redis', proxy.url], { LOG_LEVEL: 'info' });
  const { code, ms, output } = await signalledWhileHeld(child, proxy);
  expect(code, output).toBe(130);
  expect(ms).toBeLessThan(1500);
  expect(output).toContain(`backfill interrupted while connecting to ${proxy.url}: nothing was captured`);
});
