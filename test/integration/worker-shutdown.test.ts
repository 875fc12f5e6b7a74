/**
 * `writebehind worker` stopping, and being watched while its Redis is down: an idle worker exits at once;
 * SIGTERM is honoured within seconds while Redis is down (the batch it holds stays pending, as after a SIGKILL,
 * and the next worker replays it); a second signal stops it at once; /metrics keeps answering from the
 * process's own state.
 */
import type { ChildProcess } from 'node:child_process';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/runtime/index.js';
import { WORKER_GROUP, writerKeys } from '../../src/shared/keys.js';
import { spawnCli } from '../helpers/cli.js';
import { exited, startPipeline, until, type Pipeline, type TestClient } from './pipeline-helpers.js';

const PERSONS = writerKeys('PersonsWriteBehind');
let p: Pipeline;
let direct: TestClient;
/** A second runtime over the pipeline's redis-server (on a port of its own), started once the first is down. */
let restarted: Runtime | undefined;

beforeAll(async () => {
  p = await startPipeline('shutdown');
  direct = await p.newDirectClient();
});

afterAll(async () => {
  await restarted?.close();
  await p?.close();
});

const rowOf = async (id: string) => (await p.db.query<Array<{ first: string; applied: number }>>('SELECT first, applied FROM persons WHERE person_id = ?', [id]))[0];

/** A second runtime over the pipeline's redis-server, on a port of its own, for workers started after the first one went down. */
async function anotherRuntime(): Promise<Runtime> {
  restarted = await Runtime.start({ redisUrl: p.server.url, port: 0 });
  return restarted;
}

/** `writebehind worker` with /metrics on a free port; resolves that port once the worker says it listens. */
function spawnWithMetrics(pipeline: Pipeline, consumer: string, args: string[] = []): { child: ChildProcess; port: Promise<number> } {
  const child = spawnCli(['worker', '--redis', pipeline.runtime.url, '--mysql', pipeline.db.url, '--config', pipeline.configFile, '--consumer', consumer, '--metrics-port', '0', ...args], { LOG_LEVEL: 'info' });
  const port = new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"port":(\d+)[^\n]*"msg":"metrics on \/metrics"/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${String(code)}: ${out}`)));
  });
  return { child, port };
}

interface RowLock {
  /** How many of the worker's upserts of the row wait for the lock. */
  waitingWriters(): Promise<number>;
  /** Ends the session (later calls do nothing). */
  release(): Promise<void>;
}

/** A MySQL session holding the row's lock, so the worker's write of it waits (its batch stays in flight). */
async function lockRow(id: string): Promise<RowLock> {
  const session = await mysql.createConnection(p.db.url);
  await session.query('START TRANSACTION');
  await session.query('SELECT * FROM persons WHERE person_id = ? FOR UPDATE', [id]);
  let released: Promise<void> | undefined;
  return {
    // The worker's upsert of the row, waiting (PROCESSLIST is live; INNODB_TRX is a cache that frequent polling keeps stale).
    waitingWriters: async () => Number(((await session.query("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND INFO LIKE 'INSERT INTO `persons`%'")) as unknown as [Array<{ n: number }>])[0][0]!.n),
    release: () => (released ??= session.query('ROLLBACK').then(() => session.end())),
  };
}

/**
 * The worker has written its first row. Not what these tests time: a worker process starting on a loaded
 * machine (two cores, test files in parallel) may take many seconds to get there.
 */
async function started(child: ChildProcess, id: string): Promise<void> {
  await p.client.hSet(`person:${id}`, { first_name: 'Before' });
  await until(() => rowOf(id), (r) => r !== undefined, 40_000);
  expect(child.exitCode).toBeNull();
}

const pendingOf = async (consumer: string) => ((await direct.sendCommand(['XPENDING', PERSONS.batches, WORKER_GROUP, '-', '+', '10', consumer])) as unknown[]).length;

/** Exit code of `child`, or 'still running' once `ms` have passed. */
const exitWithin = (child: ChildProcess, ms: number) => Promise.race([exited(child), new Promise((r) => setTimeout(() => r('still running'), ms))]);

/** Writes person:<id> while a session here holds its row lock: resolves once the worker's INSERT waits for it. */
async function batchInFlight(child: ChildProcess, id: string): Promise<RowLock> {
  await started(child, id);
  const lock = await lockRow(id);
  await p.client.hSet(`person:${id}`, { first_name: 'After' });
  await until(lock.waitingWriters, (n) => n === 1, 15_000);
  return lock;
}

/**
 * Runs `body` with a worker (`consumer`) whose batch of person:<id> is in flight, its write waiting for a row
 * lock held here; afterwards the lock is released and the worker SIGKILLed if it still runs, whatever happened.
 */
async function withBatchInFlight(consumer: string, id: string, body: (child: ChildProcess, lock: RowLock) => Promise<void>): Promise<void> {
  const child = p.spawnWorker(consumer);
  let lock: RowLock | undefined;
  try {
    lock = await batchInFlight(child, id);
    await body(child, lock);
  } finally {
    await lock?.release();
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/** Sends `signal` to `child`; its exit code (or 'still running' after `limitMs`) and the ms it took to exit. */
async function stop(child: ChildProcess, signal: NodeJS.Signals, limitMs: number): Promise<{ code: unknown; ms: number }> {
  const signalled = Date.now();
  child.kill(signal);
  const code = await exitWithin(child, limitMs);
  return { code, ms: Date.now() - signalled };
}

/**
 * The stopped worker's batch stays pending, as after a SIGKILL; once the lock is gone `next` (a worker under
 * the stopped one's consumer name) replays it: the row is applied once more. `andThen` runs while `next` runs.
 */
async function replayedAfterStop(consumer: string, id: string, lock: RowLock, next: () => ChildProcess | Promise<ChildProcess>, andThen?: () => Promise<unknown>): Promise<void> {
  expect(await pendingOf(consumer)).toBe(1);
  await lock.release();
  const replaying = await next();
  try {
    expect(await until(() => rowOf(id), (r) => r?.first === 'After', 15_000)).toEqual({ first: 'After', applied: 2 });
    await andThen?.();
  } finally {
    replaying.kill('SIGTERM');
    await exited(replaying);
  }
}

describe('worker shutdown and metrics while Redis is down', () => {
  it('/metrics answers from the process state while Redis is down', { timeout: 40_000 }, async () => {
    const own = await startPipeline('metrics_down');
    const { child, port } = spawnWithMetrics(own, 'metrics-down');
    try {
      await own.client.hSet('person:m9', { first_name: 'Before' });
      const ownDirect = await own.newDirectClient();
      await until(() => ownDirect.xLen(PERSONS.changes), (n) => n === 0, 15_000); // committed in MySQL and in Redis
      const url = `http://127.0.0.1:${await port}/metrics`;
      await own.runtime.close(); // the worker's Redis is gone
      await new Promise((r) => setTimeout(r, 500));
      const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(text).toMatch(/writebehind_batches_total\{writer="PersonsWriteBehind"\} [1-9]/);
      expect(text).toContain('writebehind_backlog_records{writer="PersonsWriteBehind"}');
      expect(Number(/^writebehind_gauges_age_seconds (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(0.4); // the reading predates the outage
    } finally {
      child.kill('SIGKILL');
      await exited(child);
      await own.close();
    }
  });

  it('--metrics-host defaults to loopback (127.0.0.1 only); 0.0.0.0 opens it to every interface', { timeout: 40_000 }, async () => {
    for (const [args, reachable] of [[[], false], [['--metrics-host', '0.0.0.0'], true]] as const) {
      const { child, port } = spawnWithMetrics(p, `metrics-host-${String(reachable)}`, [...args]);
      try {
        expect((await fetch(`http://127.0.0.1:${await port}/metrics`)).status).toBe(200);
        // Another loopback address: a listener bound to 127.0.0.1 alone does not accept there.
        const other = await fetch(`http://127.0.0.2:${await port}/metrics`, { signal: AbortSignal.timeout(3000) }).then((r) => r.status, () => 0);
        expect(other === 200).toBe(reachable);
      } finally {
        child.kill('SIGKILL');
        await exited(child);
      }
    }
  });

  it('an idle worker exits within 2.5 s of SIGTERM (no grace timer of 5 s left running), with exit 0', { timeout: 90_000 }, async () => {
    // Its last start-up line (metrics): the stop timed here is that of a started worker.
    const { child, port } = spawnWithMetrics(p, 'idle-stop');
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await port;
      await started(child, 'i8');
      const { code, ms } = await stop(child, 'SIGTERM', 15_000);
      expect(code, `the worker's output:\n${output}`).toBe(0);
      expect(ms).toBeLessThan(2_500);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('a second signal stops it at once, even with a batch in flight', { timeout: 90_000 }, async () => {
    await withBatchInFlight('second-signal', 'x8', async (child, lock) => {
      child.kill('SIGINT'); // finishing the batch in flight: it waits for the lock
      await new Promise((r) => setTimeout(r, 500));
      expect(child.exitCode).toBeNull();
      const { code, ms } = await stop(child, 'SIGINT', 10_000);
      expect(code).toBe(130);
      expect(ms).toBeLessThan(2_000);
      await replayedAfterStop('second-signal', 'x8', lock, () => p.spawnWorker('second-signal'));
    });
  });

  it('a stop MySQL does not let finish ends after the deadline with exit 1; the batch stays pending and replays', { timeout: 90_000 }, async () => {
    await withBatchInFlight('mysql-stuck', 'd8', async (child, lock) => {
      // Its write waits for the lock (50 s by default).
      const { code, ms } = await stop(child, 'SIGTERM', 20_000);
      expect(code).toBe(1);
      expect(ms).toBeGreaterThan(9_000);
      expect(ms).toBeLessThan(15_000);
      await replayedAfterStop('mysql-stuck', 'd8', lock, () => p.spawnWorker('mysql-stuck'));
    });
  });

  it('SIGTERM while Redis is down stops within seconds; its batch stays pending and the next worker replays it', { timeout: 90_000 }, async () => {
    await withBatchInFlight('sigterm-down', 's8', async (child, lock) => {
      await p.runtime.close(); // the worker's Redis is gone
      await lock.release(); // the write goes through; committing it needs Redis
      await new Promise((r) => setTimeout(r, 500));
      // Exit 0: its close finished before STOP_DEADLINE_MS (10 s), which ends a close that hangs with exit 1.
      // The process's own deadline, not a wall-clock figure here, which a loaded machine stretches.
      const { code } = await stop(child, 'SIGTERM', 30_000);
      expect(code).toBe(0);
      expect(await rowOf('s8')).toEqual({ first: 'Before', applied: 1 }); // rolled back: not committed without Redis
      const next = async () => spawnCli(['worker', '--redis', (await anotherRuntime()).url, '--mysql', p.db.url, '--config', p.configFile, '--consumer', 'sigterm-down']);
      await replayedAfterStop('sigterm-down', 's8', lock, next, () => until(() => pendingOf('sigterm-down'), (n) => n === 0));
    });
  });
});
