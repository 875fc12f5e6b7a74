/**
 * The old primary restarted after a failover (3 primaries and 3 replicas on loopback, append-only files, a
 * runtime in front of each node, the write-behind library and a worker running under a cluster-client load).
 * Its redis-server comes back with its nodes.conf and its data: it believes itself the primary of its old
 * slots until the cluster's gossip tells it that its replica took them, and only then becomes that replica's
 * replica. To make that window long enough to see, the five other nodes are paused (SIGSTOP) while it restarts
 * and its new runtime starts: ROLE says `master`, CLUSTER NODES gives it its old slots, and the cluster state
 * is `fail` (Redis keeps a restarted primary unwritable for 2 s for exactly this reason). The pause lasts until
 * the test has seen all that (on a loaded machine the restart alone can take seconds), and the paused nodes
 * get a cluster-node-timeout longer than any pause first: resumed together, each having heard nothing from
 * the others for the whole pause, they would otherwise flag one another as failing and fail over a healthy
 * shard.
 *
 * The runtime must neither fire a trigger there nor fail: it waits until the node's role is settled, then
 * starts as a replica's runtime. Afterwards writes through it are MOVED to the new primary, which captures
 * them, and MySQL equals Redis for every key, in order, nothing applied twice.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RedisClientType } from 'redis';
import { ChaosLoad, type KeyOutcome } from '../../bench/chaos/chaos-load.js';
import { clusterBacklog, clusterReadView } from '../../bench/chaos/cluster-view.js';
import { CHAOS_PREFIX, chaosConfig } from '../../bench/chaos/chaos-schema.js';
import { writeConfigFile } from '../../bench/support/bench-config.js';
import { startCliProcess } from '../../bench/support/cli-process.js';
import { sleep } from '../../bench/support/sleep.js';
import { waitFor } from '../../bench/support/wait.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { rediscoverWhenNodesDrop } from '../../src/worker/redis/cluster-rediscovery.js';
import { expectConsistent } from '../helpers/chaos-consistency.js';
import { connectTestClient, type TestClient } from '../helpers/redis-client.js';
import type { ClusterNode } from '../helpers/redis-cluster.js';
import { useChaosCluster } from '../fixtures/chaos-cluster.js';

const KEYS = 200;
/**
 * The longest the other nodes stay paused: a separate process resumes them then if this one is stuck. The test
 * resumes them itself as soon as it has seen the window, normally after 1-3 s.
 */
const PAUSE_LIMIT_MS = 30_000;
/** The paused nodes' cluster-node-timeout from just before the pause on: longer than any pause (see the header). */
const PAUSED_NODE_TIMEOUT_MS = 2 * PAUSE_LIMIT_MS;
/** The shard whose primary is killed and restarted (not shard 0, which the clients and the worker start from). */
const FAILED = 1;

const h = useChaosCluster('cluster_rejoin', { replicas: true, nodeTimeoutMs: 1000, appendonly: true }, rediscoverWhenNodesDrop);
let rejoined: Runtime | undefined;
const clients: Array<{ close(): Promise<unknown> }> = [];
const paused = new Set<number>();
let pauseLimit: ChildProcess | undefined;

// Before the fixture's clean-up (after-hooks run last registered first): the paused servers resume first.
afterAll(async () => {
  resume();
  for (const c of clients) await c.close().catch(() => undefined);
  await rejoined?.close();
}, 30_000);

/**
 * The pids of the processes listening on `port`: the redis-server this file started, and a child it forked
 * (AOF rewrite, replication) that has not closed the inherited socket yet, which `ss` may list first.
 */
function pidsOn(port: number): number[] {
  const pids = [...execFileSync('ss', ['-ltnpH', `sport = :${port}`]).toString().matchAll(/pid=(\d+)/g)].map((match) => Number(match[1]));
  if (pids.length === 0) throw new Error(`no process listens on port ${port}`);
  return pids;
}

/** SIGSTOPs the nodes' servers until resume(); a separate process resumes them after PAUSE_LIMIT_MS if this one is stuck. */
function pause(nodes: readonly ClusterNode[]): void {
  for (const node of nodes) {
    for (const pid of pidsOn(node.server.port)) {
      process.kill(pid, 'SIGSTOP');
      paused.add(pid);
    }
  }
  pauseLimit = spawn('sh', ['-c', `sleep ${PAUSE_LIMIT_MS / 1000}; kill -CONT ${[...paused].join(' ')}`], { detached: true, stdio: 'ignore' });
  pauseLimit.unref();
}

function resume(): void {
  for (const pid of paused) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // a forked child that exited meanwhile
    }
  }
  paused.clear();
  // The fallback is not needed any more (its own process group: the shell and its sleep).
  if (pauseLimit?.pid !== undefined && pauseLimit.exitCode === null && pauseLimit.signalCode === null) {
    try {
      process.kill(-pauseLimit.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  pauseLimit = undefined;
}

/** ROLE of a node's redis-server: the role, and for a replica the port of the primary it replicates. */
async function roleOf(server: TestClient): Promise<{ role: string; primaryPort?: number }> {
  const reply = (await server.sendCommand(['ROLE'])) as unknown as unknown[];
  return reply[0] === 'slave' ? { role: 'slave', primaryPort: Number(reply[2]) } : { role: String(reply[0]) };
}

/**
 * How many commands a node refused because of its cluster role, whoever sent them (INFO errorstats): the cluster
 * was down, a write on a replica, or a key of another node's slot.
 */
async function refusals(server: TestClient): Promise<Record<string, number>> {
  const counts: Record<string, number> = { CLUSTERDOWN: 0, READONLY: 0, MOVED: 0 };
  for (const match of (await server.sendCommand(['INFO', 'errorstats'])).toString().matchAll(/^errorstat_(\w+):count=(\d+)/gm)) {
    if (match[1]! in counts) counts[match[1]!] = Number(match[2]);
  }
  return counts;
}

describe('the old primary restarted after a failover', () => {
  it('rejoins as a replica of the new primary; its new runtime waits out the window in which the node still believes itself the primary, fires nothing, and writes through it go to the new primary: MySQL equals Redis, nothing applied twice', async () => {
    const load = new ChaosLoad(h.client as unknown as RedisClientType, KEYS, 60);
    load.start();
    await sleep(2000);

    const failed = h.cluster.shards[FAILED]!;
    const promoted = failed.replica!;
    await failed.server.kill();
    await failed.runtime.close();
    const promotedServer = await connectTestClient(promoted.server.url, clients);
    await waitFor('the replica to take over', async () => (await roleOf(promotedServer)).role === 'master', 15_000, 50);
    await sleep(1000);
    // Nothing may call a paused node: the test's runtimes run in this process, and a library's call to a
    // paused redis-server would block it (the worker starts after the pause for the same reason).
    await load.stop();

    // The old primary comes back while nobody can tell it that it lost its slots.
    const others = h.cluster.shards.flatMap((shard) => [shard, shard.replica!]).filter((node) => node !== failed);
    for (const node of others) {
      await (await connectTestClient(node.server.url, clients)).sendCommand(['CONFIG', 'SET', 'cluster-node-timeout', String(PAUSED_NODE_TIMEOUT_MS)]);
    }
    pause(others);
    let starting: Promise<Runtime> | undefined;
    let started = false;
    let oldServer: TestClient;
    try {
      await failed.server.restart();
      oldServer = await connectTestClient(failed.server.url, clients);
      const myself = String(await oldServer.sendCommand(['CLUSTER', 'NODES'])).split('\n').find((line) => line.includes('myself'))!;
      expect(myself.split(' ')[2]).toBe('myself,master');
      expect(myself.split(' ').length).toBeGreaterThan(8); // it still lists its old slots
      expect(await roleOf(oldServer)).toEqual({ role: 'master' });
      expect(String(await oldServer.sendCommand(['CLUSTER', 'INFO']))).toMatch(/cluster_state:fail/);

      starting = Runtime.start({ redisUrl: failed.server.url, port: failed.runtime.port });
      void starting.then(() => (started = true), () => undefined);
      await sleep(800);
      // Still the same window: the runtime has not started as the primary's.
      expect(await roleOf(oldServer)).toEqual({ role: 'master' });
      expect(started).toBe(false);
    } finally {
      resume();
    }
    rejoined = await starting;

    await waitFor('the old primary to replicate the new one', async () => (await roleOf(oldServer!)).primaryPort === promoted.runtime.port, 15_000, 50);
    // Nothing the runtime sent was refused as the cluster's being down, as a replica's write, or as another node's key.
    expect(await refusals(oldServer!)).toEqual({ CLUSTERDOWN: 0, READONLY: 0, MOVED: 0 });

    const configFile = writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-rejoin-')), chaosConfig());
    h.workers.push(startCliProcess(['worker', '--redis', h.cluster.shards[0]!.url, '--mysql', h.db.url, '--config', configFile, '--consumer', 'c1']));
    load.start();

    // A client of the old primary's runtime is sent to the new primary for its former slots, and to no one else for others.
    const direct = await connectTestClient(rejoined.url, clients);
    const movedTo = new Set<number>();
    for (let id = 1; id <= 40; id++) {
      const reply = await direct.sendCommand(['HSET', `${CHAOS_PREFIX}:${id}`, 'first_name', 'x']).catch((error: Error) => error);
      expect(reply).toBeInstanceOf(Error);
      const moved = /^MOVED \d+ [\d.]+:(\d+)$/.exec((reply as Error).message);
      expect(moved, (reply as Error).message).not.toBeNull();
      movedTo.add(Number(moved![1]));
    }
    expect(movedTo).toContain(promoted.runtime.port);
    expect(movedTo).not.toContain(failed.runtime.port);
    expect((await refusals(oldServer!))['MOVED']).toBe(40);

    await sleep(2000);
    await load.stop();

    const primaries = [h.cluster.shards[0]!.server, promoted.server, h.cluster.shards[2]!.server];
    const servers = await Promise.all(primaries.map((server) => connectTestClient(server.url, clients)));
    await waitFor('every capture log to drain', async () => (await clusterBacklog(servers)) === 0, 45_000, 200);
    expect(h.workers[0]!.isRunning(), h.workers[0]!.tail()).toBe(true);

    // The new primary captured what it took after the failover; the old one's runtime fired nothing as a replica.
    const stats = await triggerStats(promoted.url);
    expect(stats?.['num_trigger']).toBeGreaterThan(0);
    const rejoinedStats = await triggerStats(rejoined.url);
    expect(rejoinedStats, 'the library is loaded on the rejoined runtime').not.toBeNull();
    expect(rejoinedStats!['num_trigger']).toBe(0);
    expect(await refusals(oldServer!)).toEqual({ CLUSTERDOWN: 0, READONLY: 0, MOVED: 40 });
    // No capture failed on any primary: the cluster was down while the old primary was being failed over, and a
    // capture whose write ran just before that refused its calls (CLUSTERDOWN) fired again once it was back up.
    for (const node of [h.cluster.shards[0]!, promoted, h.cluster.shards[2]!]) {
      const capture = await triggerStats(node.url);
      expect(capture?.['num_failed'], JSON.stringify(capture)).toBe(0);
      expect(capture?.['num_finished']).toBe(capture?.['num_trigger']);
    }

    // Keys of the failed-over shard: MySQL against Redis only (a write the dead primary acknowledged may not
    // have reached its replica); every other key also against what the client was told.
    const onPromoted = new Set<number>();
    for await (const keys of promotedServer.scanIterator({ MATCH: `${CHAOS_PREFIX}:*`, COUNT: 1000 })) for (const key of keys) onPromoted.add(Number(key.slice(CHAOS_PREFIX.length + 1)));
    const outcomes = new Map<number, KeyOutcome>([...load.outcomes].filter(([id]) => !onPromoted.has(id)));
    await expectConsistent(clusterReadView(servers, h.client), h.db, outcomes, load.replyOrder);
  }, 120_000);
});

/** The write-behind capture trigger's counters on one runtime (TFUNCTION LIST vv), or null without the library. */
async function triggerStats(url: string): Promise<Record<string, unknown> | null> {
  const libraries = (await (await connectTestClient(url, clients)).sendCommand(['TFUNCTION', 'LIST', 'vv'])) as unknown[][];
  if (libraries.length === 0) return null;
  const fields = (flat: unknown[]) => Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [String(flat[2 * i]), flat[2 * i + 1]]));
  const [trigger] = fields(libraries[0]!)['keyspace_triggers'] as unknown[][];
  return fields(trigger!);
}
