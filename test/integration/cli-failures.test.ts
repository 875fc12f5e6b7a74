/**
 * Every command, run as a user runs it, against servers it cannot use: a port where nothing listens, a
 * redis-server that rejects the password, a listener that never answers. Each one exits non-zero within a
 * few seconds, naming the URL (password redacted) and the cause; none hangs, none prints the password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { REDIS_CONNECT_TIMEOUT_MS } from '../../src/shared/redis-connect.js';
import { refusedPort, runCli, startBlackhole, startDropper, type Blackhole, type CliResult } from '../helpers/cli.js';

const SECRET = 'RealSecret4711';
const WRONG = 'WrongSecret0815';
let redis: RedisServer;
let blackhole: Blackhole;
let refused: number;
let db: TestDatabase;

beforeAll(async () => {
  redis = await startRedisServer();
  const admin = createClient({ url: redis.url });
  await admin.connect();
  await admin.sendCommand(['CONFIG', 'SET', 'requirepass', SECRET]);
  await admin.close();
  blackhole = await startBlackhole();
  refused = await refusedPort();
  db = await createTestDatabase('clifail');
  await db.query('CREATE TABLE persons (person_id VARCHAR(64) PRIMARY KEY, first VARCHAR(255), last VARCHAR(255), age INT)');
  await db.query('CREATE TABLE cars (car_id VARCHAR(64) PRIMARY KEY, id VARCHAR(255), color VARCHAR(255))');
});

afterAll(async () => {
  await blackhole?.close();
  await redis?.stop();
  await db?.drop();
});

/** How each unusable Redis shows in the message, after the redacted URL. */
const REDIS_FAULTS = {
  refused: { url: () => `redis://default:${SECRET}@127.0.0.1:${refused}`, cause: /ECONNREFUSED/ },
  'wrong password': { url: () => `redis://default:${WRONG}@127.0.0.1:${redis.port}`, cause: /WRONGPASS/ },
  blackhole: { url: () => `redis://127.0.0.1:${blackhole.port}`, cause: /no reply within \d+ s/ },
} as const;

/** Each command with the Redis it talks to (the backing redis-server for runtime and start). */
const COMMANDS: Record<string, (redisUrl: string) => string[]> = {
  status: (url) => ['status', '--redis', url],
  'dlq list': (url) => ['dlq', 'list', '--writer', 'PersonsWriteBehind', '--redis', url],
  deploy: (url) => ['deploy', '--redis', url],
  worker: (url) => ['worker', '--redis', url, '--mysql', db.url],
  runtime: (url) => ['runtime', '--port', '0', '--redis', url],
  start: (url) => ['start', '--port', '0', '--redis', url, '--mysql', db.url],
  recapture: (url) => ['recapture', '--slots', '1', '--redis', url],
  reshard: (url) => ['reshard', '--from', '127.0.0.1:1', '--to', '127.0.0.1:2', '--slots', '1', '--redis', url],
};

function expectNamedFailure(result: CliResult, url: string, cause: RegExp): void {
  const output = result.stdout + result.stderr;
  expect(result.timedOut, `hung: ${output}`).toBe(false);
  expect(result.code, output).not.toBe(0);
  expect(result.stderr).toContain(url.replace(/:[^:@/]+@/, ':***@'));
  expect(result.stderr).toMatch(cause);
  expect(result.stderr).not.toContain('The client is closed');
  expect(output).not.toContain(SECRET);
  expect(output).not.toContain(WRONG);
}

/**
 * "Within seconds": the longest a command may legitimately wait is its Redis connect timeout (a blackhole
 * never answers); the rest is its own work. Measured beyond a no-op run of the CLI started with them: starting
 * Node and loading the code is what a loaded machine stretches, and it stretches that run alike. The no-op
 * run is `start` with a bad --port, refused once `start` has loaded what it runs (runtime, worker, clients:
 * what the other commands load, or more), since a command loads its implementation only when it runs
 * (`--version` loads none of it). A command that waits for a reconnection or never gives up exceeds it
 * whatever the load.
 */
const NO_OP = ['start', '--port', 'not-a-port'];
const EXIT_BEYOND_NO_OP_MS = REDIS_CONNECT_TIMEOUT_MS + 4_000;
/** Only a guard against a hang ending the test: far beyond any bound asserted here. */
const HANG_MS = 60_000;

describe('commands against a Redis they cannot use', () => {
  for (const [fault, { url, cause }] of Object.entries(REDIS_FAULTS)) {
    it(`every command exits non-zero within seconds, naming the redacted URL and the cause (${fault})`, { timeout: 90_000 }, async () => {
      const names = Object.keys(COMMANDS);
      const [noOp, ...results] = await Promise.all([runCli(NO_OP, { timeoutMs: HANG_MS }), ...names.map((name) => runCli(COMMANDS[name]!(url()), { timeoutMs: HANG_MS }))]);
      expect(noOp!.code, noOp!.stderr).toBe(2);
      expect(noOp!.stderr).toContain('--port');
      for (const [i, result] of results.entries()) {
        expect.soft(() => expectNamedFailure(result, url(), cause), names[i]).not.toThrow();
        expect.soft(result.ms - noOp!.ms, `${names[i]}: ${result.ms} ms, the no-op run ${noOp!.ms} ms`).toBeLessThan(EXIT_BEYOND_NO_OP_MS);
      }
    });
  }
});

describe('commands whose Redis dies mid-command', () => {
  it('status and dlq fail instead of waiting for a reconnection', async () => {
    const dropper = await startDropper();
    try {
      const url = `redis://127.0.0.1:${dropper.port}`;
      const results = await Promise.all([runCli(['status', '--redis', url], { timeoutMs: 15_000 }), runCli(['dlq', 'list', '--writer', 'PersonsWriteBehind', '--redis', url], { timeoutMs: 15_000 })]);
      for (const result of results) {
        expect(result.timedOut, result.stderr).toBe(false);
        expect(result.code, result.stderr).toBe(1);
        expect(result.stderr).toMatch(/Socket closed unexpectedly|client is closed/);
        expect(result.stderr).not.toContain('cannot connect'); // it did connect: the failure is the command's
      }
    } finally {
      await dropper.close();
    }
  });
});

describe('commands against a MySQL they cannot use', () => {
  it('worker and start exit non-zero naming the redacted MySQL URL and the cause (refused, wrong password, blackhole)', { timeout: 90_000 }, async () => {
    const own = await startRedisServer();
    // Each `start` runs a runtime, and a redis-server takes one runtime (its lease): one server each.
    const forStart = await Promise.all([0, 1, 2].map(() => startRedisServer()));
    const faults = [
      { mysql: `mysql://root:${SECRET}@127.0.0.1:${refused}/test`, cause: /ECONNREFUSED/ },
      { mysql: `mysql://nobody_${process.pid}:${WRONG}@127.0.0.1:3306/${db.name}`, cause: /Access denied/ },
      { mysql: `mysql://root:${SECRET}@127.0.0.1:${blackhole.port}/test`, cause: /ETIMEDOUT|timed? ?out/i },
    ];
    try {
      const runs = faults.flatMap(({ mysql, cause }, i) => [
        runCli(['worker', '--redis', `redis://127.0.0.1:${own.port}`, '--mysql', mysql], { timeoutMs: HANG_MS }).then((result) => ({ result, mysql, cause, name: 'worker' })),
        runCli(['start', '--port', '0', '--redis', forStart[i]!.url, '--mysql', mysql], { timeoutMs: HANG_MS }).then((result) => ({ result, mysql, cause, name: 'start' })),
      ]);
      for (const { result, mysql, cause, name } of await Promise.all(runs)) {
        expect.soft(() => expectNamedFailure(result, mysql, cause), `${name} ${mysql}`).not.toThrow();
      }
    } finally {
      await Promise.all([own, ...forStart].map((server) => server.stop()));
    }
  });
});

describe('dlq with a writer the config does not name', () => {
  it('list, replay and purge fail with the known writers and a non-zero exit', async () => {
    const url = `redis://default:${SECRET}@127.0.0.1:${redis.port}`;
    for (const action of ['list', 'replay', 'purge']) {
      const result = await runCli(['dlq', action, '--writer', 'Typo', '--redis', url, '--config', 'config/example.json']);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain("unknown writer 'Typo'");
      expect(result.stderr).toContain('PersonsWriteBehind, CarsWriteBehind');
      expect(result.stdout).toBe('');
    }
    const known = await runCli(['dlq', 'list', '--writer', 'PersonsWriteBehind', '--redis', url, '--config', 'config/example.json']);
    expect(known.code, known.stderr).toBe(0);
    expect(known.stdout).toContain('0 of 0 dead letter(s) of PersonsWriteBehind');
  });
});

describe('dlq with bad arguments', () => {
  it('a missing --writer and an unknown action exit 2 like every bad option, the action named as the argument it is', async () => {
    const missing = await runCli(['dlq', 'list', '--redis', `redis://127.0.0.1:${await refusedPort()}`]);
    expect(missing.code, missing.stderr).toBe(2);
    expect(missing.stderr).toContain('--writer');
    const unknown = await runCli(['dlq', 'frob', '--writer', 'PersonsWriteBehind', '--redis', `redis://127.0.0.1:${await refusedPort()}`]);
    expect(unknown.code, unknown.stderr).toBe(2);
    expect(unknown.stderr).toContain("<action>: must be list, replay or purge, not 'frob'");
    expect(unknown.stderr).not.toContain('--action');
  });
});

describe('usage errors commander finds', () => {
  it('an unknown option, an unknown command and a missing argument exit 2, as a bad option value does; --help and --version exit 0', async () => {
    for (const args of [['status', '--bogus'], ['nosuch'], ['dlq'], ['worker', '--redis']]) {
      const result = await runCli(args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(/^error: /m);
    }
    for (const args of [['--help'], ['status', '--help'], ['--version'], ['help', 'dlq']]) expect((await runCli(args)).code, args.join(' ')).toBe(0);
  });
});

describe('a numeric option given text', () => {
  it('says the option must be a number and shows what it got (not "expected number, received NaN")', async () => {
    const result = await runCli(['worker', '--metrics-port', 'abc', '--redis', `redis://127.0.0.1:${await refusedPort()}`]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain("--metrics-port: must be a number, not 'abc'");
  });
});
