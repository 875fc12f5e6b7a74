/**
 * The passwords in --redis and --mysql URLs never reach a command's output: a whole session of the built CLI
 * against a password-protected redis-server and a MySQL user with a password (runtime and worker logging at
 * debug, a runtime restart under the worker, deploy, status, dlq, /metrics, every --help with the URLs in the
 * environment), then the failures of each command. The error paths are cli-failures.test.ts's matrix.
 */
import type { ChildProcess } from 'node:child_process';
import mysql from 'mysql2/promise';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MYSQL_ADMIN_URL, createTestDatabase, type TestDatabase } from '../helpers/mysql.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { until } from '../helpers/until.js';
import { refusedPort, runCli, spawnCli } from '../helpers/cli.js';

const REDIS_SECRET = 'RedisPw_7f3a9c';
const MYSQL_SECRET = 'MysqlPw_2b8e4d';
const MYSQL_USER = `wb_secret_${process.pid}`;
let redis: RedisServer;
let db: TestDatabase;
const children: ChildProcess[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  const admin = createClient({ url: redis.url });
  await admin.connect();
  await admin.sendCommand(['CONFIG', 'SET', 'requirepass', REDIS_SECRET]);
  await admin.close();
  db = await createTestDatabase('secrets');
  await db.query('CREATE TABLE persons (person_id VARCHAR(64) PRIMARY KEY, first VARCHAR(20), last VARCHAR(255), age INT)');
  await db.query('CREATE TABLE cars (car_id VARCHAR(64) PRIMARY KEY, id VARCHAR(255), color VARCHAR(255))');
  const root = await mysql.createConnection(MYSQL_ADMIN_URL);
  await root.query(`CREATE USER IF NOT EXISTS '${MYSQL_USER}'@'%' IDENTIFIED BY '${MYSQL_SECRET}'`);
  await root.query(`GRANT ALL ON \`${db.name}\`.* TO '${MYSQL_USER}'@'%'`);
  await root.end();
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  const root = await mysql.createConnection(MYSQL_ADMIN_URL);
  await root.query(`DROP USER IF EXISTS '${MYSQL_USER}'@'%'`);
  await root.end();
  await db?.drop();
  await redis?.stop();
});

/** A long-running command: its output so far, and a promise of its exit. */
function background(args: string[], env: Record<string, string> = {}) {
  const child = spawnCli(args, env);
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, output: () => output, exit };
}

describe('passwords in URLs', () => {
  // A whole session: ~25 CLI processes, each 1-2 s of start-up on 2 cores; 40 s alone, past 60 s beside the suite.
  it('never appear in the output of any command, its logs, its --help or /metrics', { timeout: 150_000 }, async () => {
    const backing = `redis://default:${REDIS_SECRET}@127.0.0.1:${redis.port}`;
    const runtimePort = await refusedPort();
    const runtimeUrl = `redis://default:${REDIS_SECRET}@127.0.0.1:${runtimePort}`;
    const mysqlUrl = new URL(db.url);
    mysqlUrl.username = MYSQL_USER;
    mysqlUrl.password = MYSQL_SECRET;
    const env = { REDIS_URL: runtimeUrl, MYSQL_URL: mysqlUrl.toString(), LOG_LEVEL: 'debug' };
    const outputs: string[] = [];
    const keep = (result: { stdout: string; stderr: string }) => outputs.push(result.stdout + result.stderr);

    const startRuntime = async () => {
      const runtime = background(['runtime', '--port', String(runtimePort), '--redis', backing, '--log-level', 'debug']);
      await until(async () => runtime.output(), (out) => out.includes('listening on') || runtime.child.exitCode !== null, 15_000);
      return runtime;
    };
    let runtime = await startRuntime();
    const deployed = await runCli(['deploy', '--config', 'config/example.json'], { env });
    keep(deployed);
    expect(deployed.code, deployed.stderr).toBe(0);

    const metricsPort = await refusedPort();
    const worker = background(['worker', '--config', 'config/example.json', '--metrics-port', String(metricsPort), '--consumer', 'secrets'], env);
    const app = createClient({ url: runtimeUrl });
    app.on('error', () => undefined);
    await app.connect();
    await app.hSet('person:1', { first_name: 'James' });
    await app.hSet('person:2', { first_name: 'A name far too long for twenty' });
    await until(async () => (await db.query<unknown[]>('SELECT * FROM persons')).length, (n) => n === 1, 15_000);

    // The runtime goes away under the worker and comes back: reconnection errors are logged at debug.
    runtime.child.kill('SIGTERM');
    await runtime.exit;
    outputs.push(runtime.output());
    await new Promise((r) => setTimeout(r, 1500));
    runtime = await startRuntime();
    await app.hSet('person:3', { first_name: 'Moneypenny' });
    await until(async () => (await db.query<unknown[]>('SELECT * FROM persons')).length, (n) => n === 2, 20_000);
    await app.close();

    for (const args of [['status'], ['status', '--json'], ['dlq', 'list', '--writer', 'PersonsWriteBehind']]) {
      const result = await runCli([...args, '--config', 'config/example.json'], { env });
      keep(result);
      expect(result.code, result.stderr).toBe(0);
    }
    outputs.push(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
    for (const command of ['', 'start', 'runtime', 'deploy', 'worker', 'status', 'dlq']) {
      keep(await runCli([...(command === '' ? [] : [command]), '--help'], { env }));
    }
    // Failures too: a wrong port for each URL.
    const dead = await refusedPort();
    const deadEnv = { ...env, REDIS_URL: `redis://default:${REDIS_SECRET}@127.0.0.1:${dead}`, MYSQL_URL: `mysql://root:${MYSQL_SECRET}@127.0.0.1:${dead}/x` };
    for (const args of [['status'], ['deploy'], ['dlq', 'list', '--writer', 'PersonsWriteBehind'], ['worker'], ['runtime', '--port', '0', '--redis', deadEnv.REDIS_URL], ['start', '--port', '0', '--redis', deadEnv.REDIS_URL], ['worker', '--redis', runtimeUrl]]) {
      const result = await runCli(args, { env: deadEnv });
      keep(result);
      expect(result.code, result.stdout + result.stderr).not.toBe(0);
    }

    worker.child.kill('SIGTERM');
    expect(await worker.exit).toBe(0);
    runtime.child.kill('SIGTERM');
    expect(await runtime.exit).toBe(0);
    outputs.push(worker.output(), runtime.output());

    const all = outputs.join('\n');
    expect(all).toContain('***'); // the URLs are there, redacted
    expect(all).not.toContain(REDIS_SECRET);
    expect(all).not.toContain(MYSQL_SECRET);
  });
});
