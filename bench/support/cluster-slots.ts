/**
 * Slot ownership and slot moves on a local Redis Cluster, done on the redis-servers themselves (the runtimes in
 * front of them pass these through, but an operator's tools talk to the servers). Each command goes over a
 * connection of its own rather than through a spawned redis-cli: spawning forks this process synchronously,
 * ~25 ms each for a test process that hosts runtimes and their isolates, and the runtimes a test runs
 * in-process answer nothing meanwhile (300 slot lookups froze them 7 s on a quiet machine, past a worker's 5 s
 * connect deadline under load). `redis-cli --cluster create` stays: it runs once per cluster.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createClient } from 'redis';

const run = promisify(execFile);

type Send = (...args: string[]) => Promise<unknown>;

/** Runs `use` with a connection of its own to the server at `port`, closed afterwards. */
async function withConnection<T>(port: number, use: (send: Send) => Promise<T>): Promise<T> {
  const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false } });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await use((...args) => client.sendCommand(args));
  } finally {
    client.destroy();
  }
}

async function command(port: number, ...args: string[]): Promise<unknown> {
  return withConnection(port, (send) => send(...args));
}

async function text(port: number, ...args: string[]): Promise<string> {
  return String(await command(port, ...args));
}

/** The port the cluster announces for the primary that serves `slot` (a runtime's, when it fronts the node). */
export async function announcedOwnerOf(serverPort: number, slot: number): Promise<number> {
  const slots = (await command(serverPort, 'CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  const range = slots.find(([from, last]) => slot >= from && slot <= last);
  if (range === undefined) throw new Error(`slot ${slot} is served by no node`);
  return Number(range[2][1]);
}

/**
 * Moves `slot` from the server at `sourcePort` to the one at `targetPort` as docs/scale-out.md asks for a slot
 * holding a capture log: IMPORTING and MIGRATING, every key of the slot in one MIGRATE, then SETSLOT NODE on
 * the target and the source. Returns the keys of the slot that vanished between the listing before MIGRATING and
 * the MIGRATE: a DEL on the source in that window is not captured (the capture's read meets ASK, as the
 * migration's own delete does), so a caller that wants MySQL to follow re-captures them as `writebehind reshard`
 * does (their re-capture is a delete).
 */
export async function moveSlot(slot: number, sourcePort: number, targetPort: number): Promise<{ vanished: string[] }> {
  // One connection per server for the whole move: under load a connection's set-up costs more than a command.
  return withConnection(sourcePort, (source) => withConnection(targetPort, async (target) => {
    const sourceId = String(await source('CLUSTER', 'MYID'));
    const targetId = String(await target('CLUSTER', 'MYID'));
    if (sourceId === targetId) return { vanished: [] };
    const keysInSlot = async () => ((await source('CLUSTER', 'GETKEYSINSLOT', String(slot), '100000')) as unknown[]).map(String);
    await target('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', sourceId);
    const before = await keysInSlot();
    await source('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', targetId);
    const keys = await keysInSlot();
    if (keys.length > 0) {
      const reply = String(await source('MIGRATE', '127.0.0.1', String(targetPort), '', '0', '10000', 'KEYS', ...keys));
      if (reply !== 'OK') throw new Error(`MIGRATE of slot ${slot} replied ${reply}`);
    }
    await target('CLUSTER', 'SETSLOT', String(slot), 'NODE', targetId);
    await source('CLUSTER', 'SETSLOT', String(slot), 'NODE', targetId);
    const migrated = new Set(keys);
    return { vanished: before.filter((key) => !migrated.has(key)) };
  }));
}

/**
 * Creates the cluster from the servers' ports (the first ports become primaries; with `replicas` per primary,
 * redis-cli makes the rest their replicas) and waits until every node says `cluster_state:ok` and every replica
 * has finished its first sync, then until every node names every replica a replica (gossip may lag behind).
 */
export async function formCluster(serverPorts: readonly number[], replicas = 0): Promise<void> {
  await run('redis-cli', ['--cluster', 'create', ...serverPorts.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 30_000 });
  for (const port of serverPorts) {
    const deadline = Date.now() + 15_000;
    const ready = async () => {
      if (!(await text(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
      const replication = await text(port, 'INFO', 'replication');
      return !replication.includes('role:slave') || replication.includes('master_link_status:up');
    };
    while (!(await ready())) {
      if (Date.now() > deadline) throw new Error(`the cluster node on ${port} did not reach cluster_state:ok (and, a replica, its first sync)`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  // Every node's view names every replica a replica: each learns of the others' roles by gossip, and a node that
  // still took a fresh replica for a primary listed it so in CLUSTER NODES and sent it TFUNCTION LOAD as a shard.
  const replicaCount = (serverPorts.length / (replicas + 1)) * replicas;
  for (const port of serverPorts) {
    const deadline = Date.now() + 15_000;
    const replicasSeen = async () => (await text(port, 'CLUSTER', 'NODES')).split('\n').filter((line) => line.split(' ')[2]?.split(',').includes('slave')).length;
    while ((await replicasSeen()) < replicaCount) {
      if (Date.now() > deadline) throw new Error(`the cluster node on ${port} did not learn within 15 s that ${replicaCount} nodes are replicas`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * The node id of each replica's primary, by replica node id: each server's own line (`myself`) of its CLUSTER
 * NODES. Another node's view may not have learned yet of a replica the cluster just formed (gossip), which made
 * a replica look like a primary right after formCluster.
 */
export async function primaryOfReplicas(ports: readonly number[]): Promise<Map<string, string>> {
  const primaries = new Map<string, string>();
  for (const port of ports) {
    for (const line of (await text(port, 'CLUSTER', 'NODES')).split('\n')) {
      const [id, , flags, primary] = line.split(' ');
      const own = flags?.split(',') ?? [];
      if (id && primary && own.includes('myself') && own.includes('slave')) primaries.set(id, primary);
    }
  }
  return primaries;
}

/** The node id of the server at `port`. */
export async function nodeId(port: number): Promise<string> {
  return text(port, 'CLUSTER', 'MYID');
}
