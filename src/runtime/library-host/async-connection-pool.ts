/**
 * Non-blocking connections for `client.callAsync`: a command such as `BLPOP l 0` may wait for a long time without
 * holding the runtime's lock, so each in-flight call gets a connection of its own (idle ones are reused).
 */
import { createConnection, type Socket } from 'node:net';
import { RespDecoder } from '../resp/decoder.js';
import { encodeCommand } from '../resp/encoder.js';
import type { RespValue } from '../resp/types.js';
import { RedisCommandError } from '../../shared/errors.js';
import { closedBeforeAnswer, commandName } from '../closed-connection.js';
import { helloCommand, helloId, NO_EVICT_COMMAND } from '../handshake.js';
import { parseRedisUrl, socketOptions, type RedisAddress } from '../../shared/redis-address.js';

interface PooledConnection {
  readonly socket: Socket;
  db: number;
  /** Resolvers of the commands written and not yet answered, in order. */
  readonly waiting: { command: string; resolve: (value: RespValue) => void; reject: (error: Error) => void }[];
}

export class AsyncConnectionPool {
  readonly #address: RedisAddress;
  /** Told each new connection's server id (the runtime keeps its own connections out of CLIENT KILL). */
  readonly #onConnection: (id: number) => void;
  readonly #idle: PooledConnection[] = [];
  readonly #all = new Set<PooledConnection>();
  #closed = false;

  constructor(redisUrl: string, onConnection: (id: number) => void = () => undefined) {
    this.#address = parseRedisUrl(redisUrl);
    this.#onConnection = onConnection;
  }

  /** Runs one command in `db` on a connection nobody else is waiting on; resolves with the RESP3 reply. */
  async call(args: readonly (string | Buffer)[], db: number): Promise<RespValue> {
    if (this.#closed) throw new RedisCommandError('connection pool is closed');
    const connection = this.#idle.pop() ?? (await this.#open());
    try {
      if (connection.db !== db) {
        const selected = await this.#send(connection, ['SELECT', String(db)]);
        if (selected.type === 'error') return selected;
        connection.db = db;
      }
      return await this.#send(connection, args);
    } finally {
      if (!connection.socket.destroyed && !this.#closed) this.#idle.push(connection);
    }
  }

  #send(connection: PooledConnection, args: readonly (string | Buffer)[]): Promise<RespValue> {
    return new Promise((resolve, reject) => {
      connection.waiting.push({ command: commandName(args), resolve, reject });
      connection.socket.write(encodeCommand(args));
    });
  }

  async #open(): Promise<PooledConnection> {
    const socket = createConnection(socketOptions(this.#address));
    socket.setNoDelay(true);
    const connection: PooledConnection = { socket, db: 0, waiting: [] };
    const decoder = new RespDecoder((value) => {
      if (value.type === 'push') return;
      connection.waiting.shift()?.resolve(value);
    });
    socket.on('data', (chunk) => decoder.push(chunk));
    const failAll = (message: string) => {
      this.#all.delete(connection);
      const index = this.#idle.indexOf(connection);
      if (index >= 0) this.#idle.splice(index, 1);
      for (const waiter of connection.waiting.splice(0)) waiter.reject(new RedisCommandError(message));
    };
    socket.on('error', (error) => failAll(`connection to redis-server failed: ${error.message}`));
    // With a reply awaited, most likely that reply outgrew the server's client-output-buffer-limit.
    socket.on('close', () => {
      const awaited = connection.waiting[0];
      failAll(awaited === undefined ? 'connection to redis-server closed' : closedBeforeAnswer(this.#address.where, 'async', awaited.command));
    });
    this.#all.add(connection);
    const hello = await this.#send(connection, helloCommand(this.#address, 3, 'async'));
    if (hello.type === 'error') throw new RedisCommandError(`HELLO 3 refused: ${hello.value}`);
    await this.#send(connection, NO_EVICT_COMMAND); // a refusal (Redis 6, ACL) is not an error
    const id = helloId(hello);
    if (id !== null) this.#onConnection(id);
    const db = this.#address.db;
    connection.db = 0;
    if (db !== 0) {
      await this.#send(connection, ['SELECT', String(db)]);
      connection.db = db;
    }
    return connection;
  }

  close(): void {
    this.#closed = true;
    for (const connection of this.#all) connection.socket.destroy();
    this.#all.clear();
    this.#idle.length = 0;
  }
}
