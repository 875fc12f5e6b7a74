/**
 * The transport to one Redis: node-redis for most commands, and a plain RESP connection of its own (opened on
 * first use) for the capture reads, whose replies are parsed from their bytes (see RedisStreamClient.rangeRecords).
 *
 * @internal
 */
import { RESP_TYPES } from '@redis/client';
import type { NodeRedisClient } from '../../shared/redis-connect.js';
import type { CommandArgs, RawReply, RedisTransport } from './redis-transport.js';
import { RespConnection } from './resp-connection.js';

/** Bulk and simple strings as Buffers, so binary values survive. */
export const BUFFERS = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer, [RESP_TYPES.SIMPLE_STRING]: Buffer } };

export class NodeTransport implements RedisTransport {
  readonly #client: NodeRedisClient;
  readonly #records: RespConnection;

  readonly #node: string;

  constructor(client: NodeRedisClient, url: string) {
    this.#client = client;
    this.#node = new URL(url).host;
    this.#records = new RespConnection(url);
  }

  async send(args: CommandArgs): Promise<RawReply> {
    return (await this.#client.sendCommand(args as Array<string | Buffer>, BUFFERS)) as RawReply;
  }

  frame(args: CommandArgs): Promise<Buffer> {
    return this.#records.send(args);
  }

  async pipeline(commands: ReadonlyArray<CommandArgs>): Promise<void> {
    const multi = this.#client.multi();
    for (const args of commands) multi.addCommand(args as Array<string | Buffer>);
    await multi.execAsPipeline();
  }

  nodeOf(): string {
    return this.#node;
  }

  isReady(): boolean {
    return this.#client.isReady;
  }

  async close(): Promise<void> {
    await this.#records.close();
    if (!this.#client.isOpen) return;
    if (!this.#client.isReady) {
      this.destroy();
      return;
    }
    await this.#client.close();
  }

  destroy(): void {
    this.#records.destroy();
    if (this.#client.isOpen) this.#client.destroy();
  }
}
