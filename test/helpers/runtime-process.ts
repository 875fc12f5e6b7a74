/**
 * The runtime as `writebehind runtime` runs it, in a process of its own. Tests of hostile library code use it:
 * if such code wedges the runtime, the test's checks must time out and fail, not wedge the test's own process
 * (a JavaScript loop on the main thread that vitest cannot interrupt) and with it the whole suite.
 */
import { spawn } from 'node:child_process';
import { killOnExit } from '../../bench/support/kill-on-exit.js';
import { listenerPort } from '../../bench/support/redis-server-process.js';
import { CLI } from './cli.js';
import type { RedisServer } from './redis-server.js';

export interface RuntimeProcess {
  /** redis://127.0.0.1:<port> of the runtime. */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Resolves the exit code (null: killed by a signal) once the process ends by itself or is stopped. */
  exited(): Promise<number | null>;
  /** SIGTERM, then SIGKILL after 5 s: a wedged runtime runs no signal handler. Resolves its exit code (null: killed). */
  close(): Promise<number | null>;
  /** SIGKILL, as a crash: no close step runs (the running mark stays). Resolves once the process is gone. */
  kill(): Promise<void>;
  /** What the process wrote so far (its log lines, one JSON object a line, and anything on stderr). */
  output(): string;
}

export async function startRuntimeProcess(redis: RedisServer, args: readonly string[] = []): Promise<RuntimeProcess> {
  const child = spawn(process.execPath, [CLI, 'runtime', '--port', String(await listenerPort()), '--redis', redis.url, '--log-level', 'warn', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (redis:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then(() => reject(new Error(`the runtime exited before listening: ${output}`)));
  });
  return {
    url,
    port: Number(new URL(url).port),
    pid: child.pid!,
    exited: () => exited.then(() => child.exitCode),
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(killer);
      }
      return child.exitCode;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
    output: () => output,
  };
}
