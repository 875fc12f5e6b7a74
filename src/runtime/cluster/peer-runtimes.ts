/**
 * Sends a TFUNCTION LOAD or DELETE that succeeded here to the runtime of every other primary, as RedisGears runs
 * it on all shards in cluster mode (reference §1.3: the client is blocked, 10 s timeout, `OK` or a shard's
 * error), and of every replica, as RedisGears replicates it there (a replica's failure is not the client's:
 * replication is asynchronous, and a promoted replica reloads the libraries from its replicated store anyway).
 * Peers come from CLUSTER SHARDS, asked at each propagation (loads are rare; the topology may have changed);
 * they receive `_rg_internals.function …`, which they apply locally and do not send on.
 */
import { errorMessage } from '../../shared/errors.js';
import { error, type RespValue } from '../resp/types.js';
import type { RedisAddress } from '../../shared/redis-address.js';
import { RedisConnection } from '../server/redis-connection.js';
import { otherNodes, text, type ClusterPeer } from './cluster-nodes.js';

/** The internal command a peer receives (RedisGears replicates `_rg_internals.function load …` alike). */
export const PEER_COMMAND = '_rg_internals.function';
/** RedisGears' run_on_all_shards timeout for TFUNCTION LOAD/DELETE. */
export const PEER_TIMEOUT_MS = 10_000;

export class PeerRuntimes {
  readonly #control: RedisConnection;
  readonly #credentials: Pick<RedisAddress, 'username' | 'password'>;

  /** `control` is a connection to this runtime's own redis-server; `credentials` authenticate to the peers. */
  constructor(control: RedisConnection, credentials: Pick<RedisAddress, 'username' | 'password'>) {
    this.#control = control;
    this.#credentials = credentials;
  }

  /** Runs `TFUNCTION <args>` on every other node's runtime: null when all primaries said OK, else the error to reply. */
  async propagate(args: readonly Buffer[]): Promise<RespValue | null> {
    let peers: ClusterPeer[];
    try {
      const myId = text(await this.#control.call(['CLUSTER', 'MYID']));
      peers = otherNodes(await this.#control.call(['CLUSTER', 'SHARDS']), myId);
    } catch (cause) {
      return error(`ERR loaded on this shard only: cannot read the cluster's shards: ${errorMessage(cause)}`);
    }
    const replies = await Promise.all(peers.map((peer) => this.#send(peer, args)));
    const failures = replies.filter((failure, i): failure is string => failure !== null && peers[i]!.primary);
    return failures.length === 0 ? null : error(failures[failures.length - 1]!);
  }

  /** The error text of `peer`'s reply, or null when it said OK. The connection is closed in every case. */
  async #send(peer: ClusterPeer, args: readonly Buffer[]): Promise<string | null> {
    const where = `${peer.host}:${peer.port}`;
    let connection: RedisConnection | undefined;
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`ERR timed out after ${PEER_TIMEOUT_MS} ms waiting for the shard at ${where}`), PEER_TIMEOUT_MS);
    });
    const attempt = (async () => {
      connection = await RedisConnection.open({ host: peer.host, port: peer.port, db: 0, where, ...this.#credentials }, 'peer');
      if (finished) return null;
      const reply = await connection.send([PEER_COMMAND, ...args]);
      return reply.type === 'error' ? `${reply.value} (shard at ${where})` : null;
    })().catch((cause: unknown) => `ERR shard at ${where}: ${errorMessage(cause)}`);
    try {
      return await Promise.race([attempt, timeout]);
    } finally {
      finished = true;
      clearTimeout(timer);
      // Opened after a timeout: closed once the open settles.
      void attempt.finally(() => connection?.close());
      await connection?.close();
    }
  }
}
