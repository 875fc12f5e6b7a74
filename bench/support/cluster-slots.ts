/**
 * Slot ownership and slot moves on a local Redis Cluster, done with redis-cli on the redis-servers themselves
 * (the runtimes in front of them pass these through, but an operator's tools talk to the servers).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-p', String(port), ...args])).stdout.trim();
}

/** The port the cluster announces for the primary that serves `slot` (a runtime's, when it fronts the node). */
export async function announcedOwnerOf(serverPort: number, slot: number): Promise<number> {
  const slots = JSON.parse(await cli(serverPort, '--json', 'CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  const range = slots.find(([from, last]) => slot >= from && slot <= last);
  if (range === undefined) throw new Error(`slot ${slot} is served by no node`);
  return Number(range[2][1]);
}

/**
 * Moves `slot` from the server at `sourcePort` to the one at `targetPort` as docs/scale-out.md asks for a slot
 * holding a capture log: IMPORTING and MIGRATING, every key of the slot in one MIGRATE, then SETSLOT NODE on
 * the target and the source.
 */
export async function moveSlot(slot: number, sourcePort: number, targetPort: number): Promise<void> {
  const sourceId = await cli(sourcePort, 'CLUSTER', 'MYID');
  const targetId = await cli(targetPort, 'CLUSTER', 'MYID');
  if (sourceId === targetId) return;
  await cli(targetPort, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', sourceId);
  await cli(sourcePort, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', targetId);
  const keys = (await cli(sourcePort, 'CLUSTER', 'GETKEYSINSLOT', String(slot), '100000')).split('\n').filter((key) => key !== '');
  if (keys.length > 0) {
    const reply = await cli(sourcePort, 'MIGRATE', '127.0.0.1', String(targetPort), '', '0', '10000', 'KEYS', ...keys);
    if (reply !== 'OK') throw new Error(`MIGRATE of slot ${slot} replied ${reply}`);
  }
  await cli(targetPort, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', targetId);
  await cli(sourcePort, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', targetId);
}

/**
 * Creates the cluster from the servers' ports (the first ports become primaries; with `replicas` per primary,
 * redis-cli makes the rest their replicas) and waits until every node says `cluster_state:ok` and every replica
 * has finished its first sync.
 */
export async function formCluster(serverPorts: readonly number[], replicas = 0): Promise<void> {
  await run('redis-cli', ['--cluster', 'create', ...serverPorts.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 30_000 });
  for (const port of serverPorts) {
    const deadline = Date.now() + 15_000;
    const ready = async () => {
      if (!(await cli(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
      const replication = await cli(port, 'INFO', 'replication');
      return !replication.includes('role:slave') || replication.includes('master_link_status:up');
    };
    while (!(await ready())) {
      if (Date.now() > deadline) throw new Error(`the cluster node on ${port} did not reach cluster_state:ok (and, a replica, its first sync)`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** The node id of each replica's primary, by replica node id, from CLUSTER NODES on the server at `port`. */
export async function primaryOfReplicas(port: number): Promise<Map<string, string>> {
  const primaries = new Map<string, string>();
  for (const line of (await cli(port, 'CLUSTER', 'NODES')).split('\n')) {
    const [id, , flags, primary] = line.split(' ');
    if (id && primary && flags?.split(',').includes('slave')) primaries.set(id, primary);
  }
  return primaries;
}

/** The node id of the server at `port`. */
export async function nodeId(port: number): Promise<string> {
  return cli(port, 'CLUSTER', 'MYID');
}
