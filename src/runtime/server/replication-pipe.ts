/**
 * SYNC / PSYNC through the runtime. A cluster announces the runtimes, so a replica connects to its primary's
 * runtime to replicate. Once every earlier reply is in, the connection becomes a byte pipe to redis-server both
 * ways: the RDB payload (`$<len>\r\n` with no trailing CRLF) and the replication stream are not replies to
 * frame, and the runtime has nothing to add to them (the primary's runtime fired the triggers of those writes
 * already; the replica's runtime fires none, docs/runtime.md).
 *
 * One thing it does hold back: the command stream of a trigger window still open or not yet confirmed
 * (replication/trigger-windows.ts), so that the replica receives a client's write and its triggers' writes
 * together, or neither if the primary dies in between. The offsets come from replication/replication-stream.ts;
 * a SYNC, whose offsets are unknown, is piped as it comes.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../../shared/log.js';
import { ReplicationStream } from '../replication/replication-stream.js';
import type { TriggerWindows } from '../replication/trigger-windows.js';
import type { UpstreamLink } from './upstream-link.js';

/**
 * Sends `raw` (the SYNC or PSYNC, whose words are `command`) and pipes the two sockets from then on.
 * `stopReading` detaches the client socket's request parser and writes out the earlier replies still gathered;
 * anything the client sent after the command is lost, as a replica sends nothing before the sync payload arrives.
 */
export async function pipeReplication(
  client: Socket,
  link: UpstreamLink,
  stopReading: () => void,
  raw: Buffer,
  command: readonly Buffer[],
  windows: TriggerWindows,
  log: Logger,
): Promise<void> {
  await link.drained();
  stopReading();
  const upstream = link.detach();
  // pipe() the replica's side (REPLCONF ACK): nothing to hold there.
  client.pipe(upstream);
  new HeldPipe(upstream, client, new ReplicationStream(command.map((word) => word.toString('latin1'))), windows, log);
  upstream.write(raw);
}

/** The server-to-replica direction: forwards at once, except command-stream bytes past the windows' limit. */
class HeldPipe {
  readonly #upstream: Socket;
  readonly #client: Socket;
  readonly #stream: ReplicationStream;
  readonly #windows: TriggerWindows;
  readonly #log: Logger;
  /** Command-stream bytes read but not forwarded, oldest first; the last ends at the stream's offset. */
  readonly #held: Buffer[] = [];
  #heldBytes = 0;
  #remove: (() => void) | undefined;
  #paused = false;

  constructor(upstream: Socket, client: Socket, stream: ReplicationStream, windows: TriggerWindows, log: Logger) {
    this.#upstream = upstream;
    this.#client = client;
    this.#stream = stream;
    this.#windows = windows;
    this.#log = log;
    upstream.on('data', (chunk: Buffer) => this.#read(chunk));
    // A primary gone with bytes held drops them: the replica keeps neither the write nor its triggers' writes.
    upstream.once('close', () => {
      this.#remove?.();
      // pipe() paused the replica's side as the server's went: it reads on, dropping what the replica still sends
      // (a REPLCONF ACK a second). Left paused, a byte sent before the replica's FIN stays unread in front of it:
      // the socket never ends, and holds its descriptor and the runtime's close() for good.
      client.resume();
      client.end();
    });
    client.once('close', () => {
      this.#remove?.();
      upstream.destroy();
    });
  }

  get readOffset(): number | null {
    return this.#stream.offset;
  }

  release(): void {
    const offset = this.#stream.offset;
    const limit = this.#windows.limitFor(offset);
    if (this.#heldBytes === 0 || offset === null) return;
    // The held bytes end at `offset`: those up to `limit` may go.
    let allowed = limit === null ? this.#heldBytes : this.#heldBytes - (offset - limit);
    this.#log.trace({ limit, offset, held: this.#heldBytes, allowed: Math.max(0, allowed) }, 'replica bytes released');
    // One write for all (corked): held chunks sent one by one, the replica could read and apply a window's client
    // write before the trigger's writes that the next chunk carries.
    this.#client.cork();
    while (allowed > 0 && this.#held.length > 0) {
      const first = this.#held[0]!;
      const take = Math.min(first.length, allowed);
      this.#send(first.subarray(0, take));
      if (take === first.length) this.#held.shift();
      else this.#held[0] = first.subarray(take);
      this.#heldBytes -= take;
      allowed -= take;
    }
    this.#client.uncork();
  }

  #read(chunk: Buffer): void {
    const wasCounted = this.#stream.counted;
    const { preamble, stream } = this.#stream.feed(chunk);
    if (!wasCounted && this.#stream.counted) {
      this.#remove = this.#windows.add(this);
      this.#log.debug({ reply: /\+(FULLRESYNC|CONTINUE)[^\r\n]*/.exec(preamble.toString('latin1'))?.[0] }, 'replica sync: stream offsets known');
    }
    if (preamble.length > 0) this.#send(preamble);
    if (stream.length === 0) return;
    this.#held.push(stream);
    this.#heldBytes += stream.length;
    this.release();
  }

  /** Forwards, pausing the server side while the replica reads slower than it sends (an RDB, a burst). */
  #send(bytes: Buffer): void {
    if (this.#client.write(bytes) || this.#paused) return;
    this.#paused = true;
    this.#upstream.pause();
    this.#client.once('drain', () => {
      this.#paused = false;
      this.#upstream.resume();
    });
  }
}
