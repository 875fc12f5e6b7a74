/**
 * The campaign's failover round: the write-behind on a Redis Cluster of 3 primaries and 3 replicas (a runtime
 * process in front of each node) under a cluster-client load, with one worker process running
 * `--wait-replicas 1`. One primary's redis-server is SIGKILLed; its replica is promoted (cluster-node-timeout
 * 1 s) and its runtime captures from then on; the load goes on; later the killed node comes back as the new
 * primary's replica (until then that shard has no replica, and its logs wait: that is what the option asks).
 *
 * Judged like every round (rows against hashes, double applications, each key's versions in order), with one
 * difference: replication is asynchronous, so a write the dead primary acknowledged may never have reached its
 * replica and is gone from Redis itself. For the failed shard's keys the client's acknowledgements are
 * therefore not held against Redis: those writes are counted apart ("lost by the failover, not replicated").
 * What `--wait-replicas 1` guarantees is checked on its own: MySQL holds no row (and no version) Redis lacks.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, createCluster, type RedisClientType } from 'redis';
import { deployLibrary } from '../../src/deploy/deploy.js';
import { keySlot } from '../../src/shared/key-slot.js';
import { rediscoverWhenNodesDrop } from '../../src/worker/redis/cluster-rediscovery.js';
import { writeConfigFile } from '../support/bench-config.js';
import type { BenchDatabase } from '../support/bench-database.js';
import { startCliProcess } from '../support/cli-process.js';
import { lastLogMessage } from '../support/drain.js';
import { startProgress } from '../support/progress.js';
import { startRuntimeClusterProcesses } from '../support/runtime-cluster-processes.js';
import { sleep } from '../support/sleep.js';
import { waitFor } from '../support/wait.js';
import { ChaosLoad, type KeyOutcome } from './chaos-load.js';
import { CHAOS_CLAIM_MIN_IDLE_MS, type RoundResult } from './chaos-round.js';
import { CHAOS_PREFIX, CHAOS_TABLE, chaosConfig, resetChaosTables } from './chaos-schema.js';
import { appliedOutOfOrder, verifyRound } from './chaos-verify.js';
import { awaitClusterDrain, clusterReadView } from './cluster-view.js';

export const FAILOVER_ROUND = 'cluster failover: primary SIGKILLed, --wait-replicas 1';

const NODE_TIMEOUT_MS = 1000;

type Cluster = ReturnType<typeof createCluster>;
type Direct = ReturnType<typeof createClient>;

export async function runFailoverRound(db: BenchDatabase, options: { seconds: number; rate: number; keys: number; exactlyOnce: boolean }): Promise<RoundResult> {
  const progress = startProgress(`chaos ${FAILOVER_ROUND}`, 'changes');
  await resetChaosTables(db);
  const cluster = await startRuntimeClusterProcesses(3, { replicas: true, nodeTimeoutMs: NODE_TIMEOUT_MS });
  const closers: (() => Promise<unknown>)[] = [];
  try {
    const [entry, victim, other] = [...cluster.replicaOf.keys()] as [number, number, number];
    const promoted = cluster.replicaOf.get(victim)!;
    const url = `redis://127.0.0.1:${cluster.ports[entry]}`;
    const config = chaosConfig({ exactlyOnce: options.exactlyOnce });
    await deployLibrary({ redisUrl: url, config });
    const configFile = writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-chaos-failover-')), config);
    const worker = startCliProcess(['worker', '--redis', url, '--mysql', db.url, '--config', configFile, '--consumer', 'chaos-1', '--claim-min-idle-ms', String(CHAOS_CLAIM_MIN_IDLE_MS), '--wait-replicas', '1', '--wait-replicas-timeout', '500']);
    closers.push(() => worker.stop());
    const client = createCluster({ rootNodes: [{ url }] });
    client.on('error', () => undefined);
    // As the worker's client does: it finds the promoted replica once the dead primary's connection drops.
    rediscoverWhenNodesDrop(client);
    await client.connect();
    closers.push(() => client.close());
    const direct = async (index: number): Promise<Direct> => {
      const connection = createClient({ url: cluster.servers[index]!.url });
      connection.on('error', () => undefined);
      await connection.connect();
      closers.push(() => connection.close());
      return connection;
    };
    const promotedServer = await direct(promoted);

    const load = new ChaosLoad(client as unknown as RedisClientType, options.keys, options.rate);
    load.start();
    const third = (options.seconds * 1000) / 3;
    let promotedAfterMs = Number.NaN;
    let failedInWindow = 0;
    try {
      await sleep(third);
      progress.update(load.counts.acknowledged);
      const failedBefore = load.counts.failed;
      const killedAt = Date.now();
      await cluster.servers[victim]!.kill();
      await waitFor('the replica to take over', async () => ((await promotedServer.sendCommand(['ROLE'])) as unknown as string[])[0] === 'master', 20_000, 50);
      promotedAfterMs = Date.now() - killedAt;
      await sleep(third);
      failedInWindow = load.counts.failed - failedBefore;
      progress.update(load.counts.acknowledged);
      // Back as the promoted node's replica: the failed shard's logs can meet --wait-replicas 1 again.
      await cluster.restartNode(victim);
      await sleep(third);
    } finally {
      await load.stop();
    }
    progress.note(`load done: ${load.counts.acknowledged} acknowledged; draining`);
    const servers = await Promise.all([entry, promoted, other].map((index) => (index === promoted ? promotedServer : direct(index))));
    const failures: string[] = [];
    const drainFailure = await awaitClusterDrain(servers, () => lastLogMessage(worker.tail()));
    const drained = drainFailure === null;
    if (drainFailure !== null) failures.push(drainFailure);

    const onFailedShard = (id: number) => client.getSlotMaster(keySlot(`${CHAOS_PREFIX}:${id}`)).port === cluster.ports[promoted];
    // The failed shard's acknowledgements are not held against Redis; its unanswered writes still count as such.
    const judged = new Map<number, KeyOutcome>([...load.outcomes].filter(([id, outcome]) => outcome === 'uncertain' || !onFailedShard(id)));
    const view = clusterReadView(servers, client);
    const verdict = await verifyRound(view, db, judged, new Set());
    const shardOf = (example: string) => (onFailedShard(Number(/^cp:(\d+)/.exec(example)?.[1])) ? `${example} [failed shard]` : example);
    const notReplicated = await acknowledgedButGone(client, [...load.outcomes].filter(([id]) => onFailedShard(id)));
    const ahead = await rowsAheadOfRedis(client, db);
    const order = await appliedOutOfOrder(db);
    failures.push(...order.wrong.slice(0, 3).map((wrong) => `out of order: ${wrong}`));
    failures.push(...ahead.examples.map((example) => `MySQL ahead of Redis: ${example}`));
    if (!worker.isRunning()) failures.push(`worker exited: ${lastLogMessage(worker.tail())}`);
    return {
      fault: FAILOVER_ROUND,
      injected: `1 primary SIGKILLed, promoted after ${promotedAfterMs} ms`,
      survived: drained && failures.length === 0 && ahead.count === 0,
      changes: load.counts.acknowledged,
      lost: verdict.lost,
      lostUnacknowledged: verdict.lostUnacknowledged,
      appliedTwice: verdict.appliedTwice,
      notes: [
        ...failures,
        ...verdict.examples.map(shardOf),
        `${load.counts.failed} writes refused in all, ${failedInWindow} between the SIGKILL and ${Math.round(third / 1000)} s after it`,
        `${notReplicated} acknowledged writes of the failed shard gone from Redis itself (acknowledged by the dead primary, not replicated; MySQL follows Redis for them)`,
        `${ahead.count} MySQL rows or versions Redis lacks (--wait-replicas 1: must be 0)`,
        `${verdict.keysCompared} keys compared, ${order.applied} applications in order`,
      ],
    };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await cluster.close();
  }
}

/** Of the given keys' outcomes, the acknowledged ones Redis does not hold (version, or deletion). */
async function acknowledgedButGone(client: Cluster, outcomes: ReadonlyArray<readonly [number, KeyOutcome]>): Promise<number> {
  let gone = 0;
  for (const [id, outcome] of outcomes) {
    if (outcome === 'uncertain') continue;
    const version = await client.hGet(`${CHAOS_PREFIX}:${id}`, 'version');
    if (outcome.deleted ? version !== null : version !== String(outcome.version)) gone += 1;
  }
  return gone;
}

/** MySQL rows whose key Redis lacks, or whose version is above the hash's: what a committed, lost tail leaves. */
async function rowsAheadOfRedis(client: Cluster, db: Pick<BenchDatabase, 'query'>): Promise<{ count: number; examples: string[] }> {
  const examples: string[] = [];
  let count = 0;
  for (const row of await db.query<Array<{ person_id: string | number; version: string | number }>>(`SELECT person_id, version FROM ${CHAOS_TABLE}`)) {
    const version = await client.hGet(`${CHAOS_PREFIX}:${row.person_id}`, 'version');
    if (version !== null && Number(version) >= Number(row.version)) continue;
    count += 1;
    if (examples.length < 3) examples.push(`${CHAOS_PREFIX}:${row.person_id} row v${row.version}, Redis ${version === null ? 'nothing' : `v${version}`}`);
  }
  return { count, examples };
}
