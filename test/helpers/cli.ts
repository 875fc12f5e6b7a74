/**
 * The built CLI as a user runs it (`node dist/src/cli/index.js …`), in its own process, with a deadline: a
 * command that hangs is killed and reported as such (`timedOut`), so a test can assert that nothing hangs.
 * Also the two kinds of unreachable server a command must survive: a port where nothing listens, and a
 * listener that accepts connections but never answers (a blackhole).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { killOnExit } from '../../bench/support/kill-on-exit.js';

export const CLI = fileURLToPath(new URL('../../dist/src/cli/index.js', import.meta.url));

export interface CliResult {
  /** Exit code; null when it was killed (by the deadline or a signal). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  readonly timedOut: boolean;
}

export interface RunCliOptions {
  env?: Record<string, string | undefined>;
  /** Kill it (SIGKILL) after this long. @defaultValue 20000 */
  timeoutMs?: number;
}

export function runCli(args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  const started = Date.now();
  const child = spawnCli(args, options.env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 20_000);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started, timedOut });
    });
  });
}

export function spawnCli(args: readonly string[], env: Record<string, string | undefined> = {}): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn', ...env } });
  killOnExit(child);
  return child;
}

/** A port nothing listens on (free a moment ago). */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Blackhole {
  readonly port: number;
  close(): Promise<void>;
}

/** Accepts every connection and never sends a byte. */
export function startBlackhole(): Promise<Blackhole> {
  return startListener(() => undefined);
}

/** Answers the handshake (CLIENT …, PING), then drops the connection at the first other command (a server dying mid-command). */
export function startDropper(): Promise<Blackhole> {
  return startListener((socket) => {
    socket.on('data', (chunk) => {
      // Each command is `*N\r\n$len\r\nNAME\r\n…`: its name is the third line.
      for (const command of chunk.toString('latin1').split(/(?=\*\d+\r\n)/)) {
        const name = command.split('\r\n')[2]?.toUpperCase();
        if (name === 'PING') socket.write('+PONG\r\n');
        else if (name === 'CLIENT') socket.write('+OK\r\n');
        else return void socket.destroy();
      }
    });
  });
}

/** A loopback listener that hands each connection to `onSocket` and, on close, drops them all. */
async function startListener(onSocket: (socket: Socket) => void): Promise<Blackhole> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
