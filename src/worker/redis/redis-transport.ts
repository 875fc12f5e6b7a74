/**
 * Where RedisStreamClient's commands go: one Redis (node-transport.ts), or a Redis Cluster whose client sends
 * each command to the shard of its key and follows MOVED/ASK (cluster-transport.ts). The stream client builds
 * the commands and reads the replies; a transport only carries them.
 *
 * @internal
 */

export type RawReply = null | number | bigint | Buffer | string | RawReply[];

export type CommandArgs = ReadonlyArray<string | Buffer>;

export interface RedisTransport {
  /** One command, to the node that serves `key` (any node when there is none); bulk strings come as Buffers. */
  send(args: CommandArgs, key: string | undefined): Promise<RawReply>;
  /** One command's reply as the bytes of one RESP2 frame (capture-page.ts parses XRANGE replies from them). */
  frame(args: CommandArgs, key: string): Promise<Buffer>;
  /** Commands whose key is their second argument, in one round trip per node; rejects when one failed. */
  pipeline(commands: ReadonlyArray<CommandArgs>): Promise<void>;
  /** The node (`host:port`) that serves `key`, as last seen (undefined while the topology does not say). */
  nodeOf(key: string): string | undefined;
  /** False while a connection is down (commands wait for it to come back). */
  isReady(): boolean;
  /** Waits for the replies still due, then closes. */
  close(): Promise<void>;
  /** Closes at once: every command waiting fails. */
  destroy(): void;
}
