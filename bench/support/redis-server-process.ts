/**
 * A redis-server of its own, on a free loopback port, in a temporary directory: nothing is shared with the
 * engineers' Redis on 6379. With `appendonly`, the chaos campaign can SIGKILL it and start it again on the
 * same port and directory and find every acknowledged write. The tests' helper (test/helpers/redis-server.ts)
 * wraps this one: bench code is compiled to dist/, test code is not, so the launcher lives here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { killOnExit } from './kill-on-exit.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './sleep.js';

export interface RedisServerProcess {
  readonly port: number;
  readonly url: string;
  /** Its working directory (the AOF, if any, lives there). */
  readonly dir: string;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Starts again on the same port and directory (the AOF, if any, is replayed). */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

export interface RedisServerProcessOptions {
  /** appendonly yes, appendfsync always: every acknowledged write survives a SIGKILL. */
  readonly appendonly?: boolean;
  /** More redis-server arguments, e.g. `['--maxmemory', '8mb']`. */
  readonly extraArgs?: readonly string[];
  /** Its port (from findFreePorts, with the other ports it must not collide with); a free one by default. */
  readonly port?: number;
}

/** A TCP port nobody listens on right now (the OS picks it). */
export async function findFreePort(): Promise<number> {
  return (await findFreePorts(1))[0]!;
}

/**
 * `count` distinct free ports: each is held until all are picked, since a port probed and closed may be handed
 * out again by the next probe (a cluster node needs its own, its bus and its runtime's port all different).
 */
export async function findFreePorts(count: number): Promise<number[]> {
  const held = await Promise.all(Array.from({ length: count }, () => listenAnywhere()));
  await Promise.all(held.map(({ server }) => new Promise((resolve) => server.close(resolve))));
  return held.map(({ port }) => port);
}

/**
 * `WB_TEST_PORTS=<first>-<last>`: every port picked here comes from that range, so engineers sharing a machine
 * each keep to their own; unset, the OS picks any free port.
 */
const PORT_RANGE = portRange(process.env['WB_TEST_PORTS']);
/**
 * The next port of PORT_RANGE to try: ports just handed out are tried last. Each test process starts at a random
 * one, so files run in parallel rarely probe the same free port before either listens on it.
 */
let nextInRange = Math.floor(Math.random() * 65536);

function portRange(text: string | undefined): { first: number; last: number } | null {
  if (text === undefined || text === '') return null;
  const match = /^(\d+)-(\d+)$/.exec(text);
  const [first, last] = match ? [Number(match[1]), Number(match[2])] : [0, -1];
  if (first < 1 || last > 65535 || first > last) throw new RangeError(`WB_TEST_PORTS must be <first>-<last>, got ${text}`);
  return { first, last };
}

/** The port a test's own listener (a runtime) asks for: 0, the OS's pick, unless WB_TEST_PORTS names a range. */
export async function listenerPort(): Promise<number> {
  return PORT_RANGE === null ? 0 : findFreePort();
}

async function listenAnywhere(): Promise<{ server: ReturnType<typeof createServer>; port: number }> {
  if (PORT_RANGE === null) return listenOn(0);
  const size = PORT_RANGE.last - PORT_RANGE.first + 1;
  for (let tried = 0; tried < size; tried++) {
    const port = PORT_RANGE.first + (nextInRange++ % size);
    try {
      return await listenOn(port);
    } catch {
      // taken: the next one
    }
  }
  throw new Error(`no free port in WB_TEST_PORTS ${PORT_RANGE.first}-${PORT_RANGE.last}`);
}

function listenOn(wanted: number): Promise<{ server: ReturnType<typeof createServer>; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(wanted, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      if (port > 0) resolve({ server, port });
      else server.close(() => reject(new Error('no free port')));
    });
  });
}

export async function startRedisServerProcess(options: RedisServerProcessOptions = {}): Promise<RedisServerProcess> {
  const port = options.port ?? (await findFreePort());
  const dir = mkdtempSync(join(tmpdir(), 'wb-redis-'));
  // No 5 s wait for more replicas before a diskless sync (redis-server 7's default): a test's replicas attach one
  // at a time, and each waited it out.
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--appendonly', options.appendonly === true ? 'yes' : 'no', '--appendfsync', 'always',
    '--repl-diskless-sync-delay', '0', ...(options.extraArgs ?? [])];
  let child: ChildProcess | undefined;
  const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;
  const stop = async (signal: NodeJS.Signals) => {
    const c = child;
    if (c === undefined || exited(c)) return;
    const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill(signal);
    await gone;
  };
  const server: RedisServerProcess = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    kill: () => stop('SIGKILL'),
    async start() {
      // redis-server would fail to bind and exit, but a PING could reach the other server first: the caller would
      // go on against a server that is not its own.
      if (await answersPing(port)) throw new Error(`port ${port} already has a server answering PING: not starting redis-server there`);
      child = spawn('redis-server', args, { stdio: 'ignore' });
      killOnExit(child);
      const c = child;
      await waitForPing(port, () => c.exitCode === null, 'redis-server');
    },
    async close() {
      await stop('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/** Waits until something on `port` answers PING (redis-server, or the runtime in front of it). */
export async function waitForPing(port: number, isAlive: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await answersPing(port))) {
    if (!isAlive()) throw new Error(`${what} on port ${port} exited before answering PING`);
    if (Date.now() > deadline) throw new Error(`${what} on port ${port} did not answer PING within ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** PING over a raw socket (no client library: it must work while the server is still loading its AOF). */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
