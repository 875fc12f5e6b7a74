/**
 * SYNC / PSYNC through the runtime. A cluster announces the runtimes, so a replica connects to its primary's
 * runtime to replicate. Once every earlier reply is in, the connection becomes a byte pipe to redis-server both
 * ways: the RDB payload (`$<len>\r\n` with no trailing CRLF) and the replication stream are not replies to
 * frame, and the runtime has nothing to add to them (the primary's runtime fired the triggers of those writes
 * already; the replica's runtime fires none, docs/runtime.md).
 */
import type { Socket } from 'node:net';
import type { UpstreamLink } from './upstream-link.js';

/**
 * Sends `raw` (the SYNC or PSYNC) and pipes the two sockets from then on. `stopReading` detaches the client
 * socket's request parser and writes out the earlier replies still gathered; anything the client sent after
 * the command is lost, as a replica sends nothing before the sync payload arrives.
 */
export async function pipeReplication(client: Socket, link: UpstreamLink, stopReading: () => void, raw: Buffer): Promise<void> {
  await link.drained();
  stopReading();
  const upstream = link.detach();
  // pipe(), not write() per chunk: an RDB payload faster than the replica reads it must not pile up in memory.
  upstream.pipe(client);
  client.pipe(upstream);
  upstream.write(raw);
}
