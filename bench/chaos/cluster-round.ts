/**
 * The campaign's cluster round: the write-behind on a 3-primary Redis Cluster (a runtime process in front of
 * each shard, two worker processes) under the load, while the slots of keys just written move to another shard
 * (one MIGRATE each, docs/scale-out.md) and a worker is SIGKILLed and restarted under its name, in turns.
 * Drained, it is judged like every round: rows against hashes, losses, double applications, and each key's
 * versions in order.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, createCluster, type RedisClientType } from 'redis';
import { deployLibrary } from '../../src/deploy/deploy.js';
import { keySlot } from '../../src/shared/key-slot.js';
import { writeConfigFile } from '../support/bench-config.js';
import type { BenchDatabase } from '../support/bench-database.js';
import { startCliProcess, type CliProcess } from '../support/cli-process.js';
import { announcedOwnerOf } from '../support/cluster-slots.js';
import { lastLogMessage } from '../support/drain.js';
import { startProgress } from '../support/progress.js';
import { startRuntimeClusterProcesses } from '../support/runtime-cluster-processes.js';
import { sleep } from '../support/sleep.js';
import { ChaosLoad } from './chaos-load.js';
import { CHAOS_CLAIM_MIN_IDLE_MS, type RoundResult } from './chaos-round.js';
import { CHAOS_PREFIX, chaosConfig, resetChaosTables } from './chaos-schema.js';
import { appliedOutOfOrder, verifyRound } from './chaos-verify.js';
import { awaitClusterDrain, clusterReadView } from './cluster-view.js';
import { moveSlotUnderLoad } from './slot-move.js';

export const CLUSTER_ROUND = 'cluster: slot moves + worker kills';

/** Faults injected over the round, alternating a slot move and a worker kill. */
const FAULTS = 6;

export async function runClusterRound(db: BenchDatabase, options: { seconds: number; rate: number; keys: number; exactlyOnce: boolean }): Promise<RoundResult> {
  const progress = startProgress(`chaos ${CLUSTER_ROUND}`, 'changes');
  await resetChaosTables(db);
  const cluster = await startRuntimeClusterProcesses(3);
  const closers: (() => Promise<unknown>)[] = [];
  try {
    const url = `redis://127.0.0.1:${cluster.ports[0]}`;
    const config = chaosConfig({ exactlyOnce: options.exactlyOnce });
    await deployLibrary({ redisUrl: url, config });
    const configFile = writeConfigFile(mkdtempSync(join(tmpdir(), 'wb-chaos-cluster-')), config);
    const workers = new Map<string, CliProcess>();
    const startWorker = (consumer: string) => {
      const worker = startCliProcess(['worker', '--redis', url, '--mysql', db.url, '--config', configFile, '--consumer', consumer, '--claim-min-idle-ms', String(CHAOS_CLAIM_MIN_IDLE_MS)]);
      workers.set(consumer, worker);
    };
    closers.push(() => Promise.all([...workers.values()].map((worker) => worker.stop())));
    startWorker('chaos-1');
    startWorker('chaos-2');
    const client = createCluster({ rootNodes: [{ url }] });
    client.on('error', () => undefined);
    await client.connect();
    closers.push(() => client.close());
    const servers = await Promise.all(cluster.servers.map(async (server) => {
      const direct = createClient({ url: server.url });
      direct.on('error', () => undefined);
      await direct.connect();
      closers.push(() => direct.close());
      return direct;
    }));

    const load = new ChaosLoad(client as unknown as RedisClientType, options.keys, options.rate);
    load.start();
    let moves = 0;
    let kills = 0;
    try {
      for (let fault = 0; fault < FAULTS; fault++) {
        await sleep((options.seconds * 1000) / FAULTS);
        progress.update(load.counts.acknowledged);
        if (fault % 2 === 0) {
          const written = [...load.outcomes.keys()];
          const slot = keySlot(`${CHAOS_PREFIX}:${written[Math.floor(Math.random() * written.length)]}`);
          const owner = cluster.ports.indexOf(await announcedOwnerOf(cluster.servers[0]!.port, slot));
          await moveSlotUnderLoad(client, config, slot, cluster.servers[owner]!.port, cluster.servers[(owner + 1) % cluster.servers.length]!.port);
          moves += 1;
        } else {
          const victim = workers.get('chaos-2')!;
          victim.signal('SIGKILL');
          await victim.exited;
          startWorker('chaos-2');
          kills += 1;
        }
      }
    } finally {
      await load.stop();
    }
    progress.note(`load done: ${load.counts.acknowledged} acknowledged; draining`);
    const failures: string[] = [];
    const drainFailure = await awaitClusterDrain(servers, () => lastLogMessage(workers.get('chaos-1')!.tail()));
    const drained = drainFailure === null;
    if (drainFailure !== null) failures.push(drainFailure);
    const verdict = await verifyRound(clusterReadView(servers, client), db, load.outcomes, new Set());
    const order = await appliedOutOfOrder(db);
    failures.push(...order.wrong.slice(0, 3).map((wrong) => `out of order: ${wrong}`));
    for (const [consumer, worker] of workers) if (!worker.isRunning()) failures.push(`worker ${consumer} exited: ${lastLogMessage(worker.tail())}`);
    return {
      fault: CLUSTER_ROUND,
      injected: `${moves} slot moves, ${kills} SIGKILLs`,
      survived: drained && failures.length === 0,
      changes: load.counts.acknowledged,
      lost: verdict.lost,
      lostUnacknowledged: verdict.lostUnacknowledged,
      appliedTwice: verdict.appliedTwice,
      notes: [...failures, ...verdict.examples, `${verdict.keysCompared} keys compared, ${order.applied} applications in order, ${load.counts.failed} writes refused`],
    };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await cluster.close();
  }
}
