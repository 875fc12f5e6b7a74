/**
 * The library's `committed` for the slot logs of one writer on a Redis Cluster, gathered per shard: the loops of
 * a writer's logs commit their batches together (shared-transaction.ts), then each calls `committed` for its own;
 * the calls made in the same turn of the event loop go to each shard as one `committed_many` (a function call
 * per shard instead of one per log: each costs the shard's runtime its lock, an ordering marker and an entry into
 * the library). A log whose slot the shard no longer serves (it moved meanwhile) is marked with its own
 * `committed`, which follows the redirect, and so is each batch of a call that failed (a node gone, or no longer a
 * primary); a batch that fails that way too fails for its loop, which retries it (step-retry.ts). Recording a batch twice is harmless (committed.ts), so a retry may repeat any of them.
 *
 * @internal
 */
import type { StreamKeys } from '../shared/keys.js';
import { LibraryFunction } from '../shared/protocol.js';
import type { ClusterClient } from './redis/stream-client.js';

/** Batches one `committed_many` call records at most (each is six Redis calls inside it, under the shard's lock). */
const MAX_PER_CALL = 100;

interface Mark {
  readonly args: readonly string[];
  readonly keys: StreamKeys;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class CommittedCalls {
  readonly #client: ClusterClient;
  readonly #library: string;
  #pending: Mark[] = [];

  constructor(client: ClusterClient, library: string) {
    this.#client = client;
    this.#library = library;
  }

  /** `committed` for one batch of the log `keys`: settles once its shard recorded it. */
  mark(keys: StreamKeys, descriptorId: string, lastCommitted: string, rows: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.#pending.length === 0) setImmediate(() => this.#flush());
      this.#pending.push({ args: [keys.changes, keys.batches, descriptorId, lastCommitted, String(rows)], keys, resolve, reject });
    });
  }

  #flush(): void {
    const byNode = new Map<string, Mark[]>();
    for (const mark of this.#pending) {
      const node = this.#client.nodeOf(mark.keys.changes);
      if (node === undefined) {
        void this.#markAlone(mark);
        continue;
      }
      const marks = byNode.get(node) ?? [];
      marks.push(mark);
      byNode.set(node, marks);
    }
    this.#pending = [];
    for (const [node, marks] of byNode) {
      for (let from = 0; from < marks.length; from += MAX_PER_CALL) void this.#markOn(node, marks.slice(from, from + MAX_PER_CALL));
    }
  }

  async #markOn(node: string, marks: readonly Mark[]): Promise<void> {
    let replies: readonly (string | null)[];
    try {
      replies = await this.#client.callOnNode(node, this.#library, LibraryFunction.committedMany, marks.flatMap((mark) => mark.args));
    } catch {
      // The node may be gone or no longer a primary (a failover the topology has not caught up with): each batch
      // on its own keys, which find their shard; if that fails too, the batch's loop retries it.
      for (const mark of marks) void this.#markAlone(mark);
      return;
    }
    marks.forEach((mark, index) => {
      if (replies[index] === null || replies[index] === undefined) void this.#markAlone(mark);
      else mark.resolve();
    });
  }

  /** `committed` on the log's own keys (its shard is unknown here, or the slot moved). */
  async #markAlone(mark: Mark): Promise<void> {
    try {
      await this.#client.callFunction(this.#library, LibraryFunction.committed, [mark.keys.changes, mark.keys.batches], mark.args.slice(2));
      mark.resolve();
    } catch (error) {
      mark.reject(error);
    }
  }
}
