/**
 * A real redis-server of the test's own, on a free port, with nothing on disk unless asked for.
 * Start it in beforeAll and stop it in afterAll; each test file gets its own server, so files run in parallel.
 * The launcher is the bench's (bench/support/redis-server-process.ts); this is the shape the tests use.
 */
import { startRedisServerProcess } from '../../bench/support/redis-server-process.js';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  stop(): Promise<void>;
  /** Kills the server abruptly (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (with AOF, data survives). */
  restart(): Promise<void>;
}

export interface RedisServerOptions {
  /** Keep an append-only file in the server's directory, so a restart keeps the data. */
  appendonly?: boolean;
  extraArgs?: string[];
  /** Its port (from findFreePorts, distinct from the other ports picked with it); a free one by default. */
  port?: number;
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const server = await startRedisServerProcess({ appendonly: options.appendonly ?? false, extraArgs: options.extraArgs ?? [], ...(options.port === undefined ? {} : { port: options.port }) });
  return {
    port: server.port,
    url: server.url,
    dir: server.dir,
    stop: () => server.close(),
    kill: () => server.kill(),
    async restart() {
      await server.kill();
      await server.start();
    },
  };
}
