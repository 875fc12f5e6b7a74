/**
 * `writebehind worker --wait-replicas 1` on one Redis (partitions 1 and 2): a batch is written to MySQL only once
 * a replica holds it. While the replica is connected but acknowledges nothing (`DEBUG SLEEP` on it) a write
 * stays out of MySQL; once it wakes the write is committed. The same write without the option is committed at
 * once, so the wait is the option's. And the guarantee itself: a replica whose link is cut (and the primary killed
 * before it is back) is promoted without the last write; with the option MySQL never got that row, without it
 * MySQL keeps a row Redis lost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { pino } from 'pino';
import { exampleConfig, startPipeline, until, type Pipeline } from './pipeline-helpers.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { SEED_CONFIG } from '../scenarios/seed-scenarios.js';
import { connectTestClient, type TestClient } from '../helpers/redis-client.js';

let pipeline: Pipeline | undefined;
let replica: RedisServer | undefined;
const replicaClients: TestClient[] = [];

afterEach(async () => {
  for (const client of replicaClients.splice(0)) await client.close().catch(() => undefined);
  await pipeline?.close();
  await replica?.stop();
  pipeline = undefined;
  replica = undefined;
}, 30_000);

function configWith(partitions: number) {
  const [persons, cars] = SEED_CONFIG.writers;
  return exampleConfig({ writers: [{ ...persons, partitions }, cars] });
}

/** The runtime's replication lines (its trigger windows and replica pipes, at trace level), kept for a failure message. */
function replicationTrace(): { log: pino.Logger; tail: () => string } {
  const lines: string[] = [];
  const log = pino({ level: 'trace' }, { write: (line: string) => line.includes('"component":"replication"') && lines.push(line.trim()) });
  // The sync's start and the last events: a stall shows in both.
  return { log, tail: () => (lines.length <= 100 ? lines : [...lines.slice(0, 30), '…', ...lines.slice(-70)]).join('\n') };
}

interface WithReplica {
  readonly pipeline: Pipeline;
  /** Connected to the replica itself. */
  readonly onReplica: TestClient;
  sleepReplica(seconds: number): Promise<unknown>;
  /** The runtime's replication trace so far (replicationTrace). */
  trace(): string;
}

/**
 * A pipeline whose redis-server has a replica (replicating through the runtime, as replicas do), whose command
 * stream flows: after a diskless sync redis-server reports the replica online once the RDB is sent, before the
 * replica has loaded it and asked for the stream.
 */
async function withReplica(label: string, partitions: number): Promise<WithReplica> {
  const { log, tail } = replicationTrace();
  pipeline = await startPipeline(label, configWith(partitions), { log });
  replica = await startRedisServer({ extraArgs: ['--enable-debug-command', 'yes'] });
  const onReplica = await connectTestClient(replica.url, replicaClients);
  const runtimePort = String(pipeline.runtime.port);
  const primary = await pipeline.newDirectClient();
  await onReplica.sendCommand(['REPLICAOF', '127.0.0.1', runtimePort]);
  await until(async () => String(await primary.sendCommand(['INFO', 'replication'])), (info) => /connected_slaves:1/.test(info) && /slave0:.*state=online/.test(info), 20_000);
  await primary.set('replica:probe', '1');
  expect(await primary.sendCommand(['WAIT', '1', '20000']), `the replica acknowledged no write within 20 s\n${tail()}`).toBe(1);
  const sleeper = await connectTestClient(replica.url, replicaClients);
  return { pipeline, onReplica, sleepReplica: (seconds) => sleeper.sendCommand(['DEBUG', 'SLEEP', String(seconds)]), trace: tail };
}

async function rowOf(p: Pipeline, id: string): Promise<unknown> {
  const rows = await p.db.query<{ last: string }[]>('SELECT last FROM persons WHERE person_id = ?', [id]);
  return rows[0]?.last ?? null;
}

const stopped: ChildProcess[] = [];
afterEach(() => {
  for (const child of stopped.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

for (const partitions of [1, 2]) {
  describe(`--wait-replicas on one Redis, partitions: ${partitions}`, () => {
    it('holds a batch out of MySQL while no replica acknowledges it, and commits it once the replica is back', async () => {
      const { pipeline: p, sleepReplica } = await withReplica(`wait_replicas_${partitions}`, partitions);
      stopped.push(p.spawnWorker('waiting', ['--wait-replicas', '1', '--wait-replicas-timeout', '200']));
      await p.client.hSet('person:1', { first_name: 'a', last_name: 'replicated', age: '1' });
      expect(await until(() => rowOf(p, '1'), (v) => v === 'replicated', 30_000)).toBe('replicated');

      const asleep = sleepReplica(6);
      await p.client.hSet('person:2', { first_name: 'b', last_name: 'waits', age: '2' });
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(await rowOf(p, '2')).toBeNull();

      await asleep;
      expect(await until(() => rowOf(p, '2'), (v) => v === 'waits', 30_000)).toBe('waits');
    }, 90_000);

    it('with the option, a failover to a replica that missed a write leaves MySQL without that row; without it, MySQL keeps a row Redis lost', async () => {
      for (const waitReplicas of [true, false]) {
        const { pipeline: p, onReplica, sleepReplica, trace } = await withReplica(`failover_${waitReplicas}_${partitions}`, partitions);
        stopped.push(p.spawnWorker('failover', waitReplicas ? ['--wait-replicas', '1', '--wait-replicas-timeout', '200'] : []));
        await p.client.hSet('person:1', { first_name: 'a', last_name: 'replicated', age: '1' });
        expect(await until(() => rowOf(p, '1'), (v) => v === 'replicated', 30_000)).toBe('replicated');
        // Without the option a row in MySQL says nothing of the replica (replication is asynchronous); the premise is
        // a replica that holds person:1. Through the runtime it arrives within ms: 10 s without it is a stall.
        const replicated = await until(() => onReplica.hGet('person:1', 'last_name'), (v) => v === 'replicated', 10_000).catch(() => null);
        expect(replicated, `waitReplicas ${waitReplicas}: the replica did not get person:1 within 10 s\n${trace()}`).toBe('replicated');
        // The replica misses what follows: its link is cut while it sleeps, and the primary dies before it is back.
        const asleep = sleepReplica(6);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await (await p.newDirectClient()).sendCommand(['CLIENT', 'KILL', 'TYPE', 'replica']);
        await p.client.hSet('person:2', { first_name: 'b', last_name: 'unreplicated', age: '2' });
        if (waitReplicas) await new Promise((resolve) => setTimeout(resolve, 3000));
        else await until(() => rowOf(p, '2'), (v) => v === 'unreplicated', 4000);
        await p.server.kill();
        await asleep;
        const promoted = await connectTestClient(replica!.url, replicaClients);
        await promoted.sendCommand(['REPLICAOF', 'NO', 'ONE']);
        // Say which case failed, what the replica held, and what the runtime's replication did.
        const held = `waitReplicas ${waitReplicas}; the promoted replica: ${String(await promoted.sendCommand(['DBSIZE']))} keys; ${String(await promoted.sendCommand(['INFO', 'replication']))}\nthe runtime's replication trace:\n${trace()}`;
        expect(await promoted.hGetAll('person:1'), held).toMatchObject({ last_name: 'replicated' });
        expect(await promoted.exists('person:2')).toBe(0);
        expect(await rowOf(p, '2')).toBe(waitReplicas ? null : 'unreplicated');
        for (const child of stopped.splice(0)) child.kill('SIGKILL');
        for (const client of replicaClients.splice(0)) await client.close().catch(() => undefined);
        await p.close();
        await replica!.stop();
        pipeline = undefined;
        replica = undefined;
      }
    }, 120_000);

    it('without the option, commits the same write at once', async () => {
      const { pipeline: p, sleepReplica } = await withReplica(`no_wait_replicas_${partitions}`, partitions);
      stopped.push(p.spawnWorker('plain'));
      await p.client.hSet('person:1', { first_name: 'a', last_name: 'first', age: '1' });
      expect(await until(() => rowOf(p, '1'), (v) => v === 'first', 30_000)).toBe('first');
      const asleep = sleepReplica(6);
      await p.client.hSet('person:2', { first_name: 'b', last_name: 'at once', age: '2' });
      expect(await until(() => rowOf(p, '2'), (v) => v === 'at once', 3000)).toBe('at once');
      await asleep;
    }, 60_000);
  });
}
