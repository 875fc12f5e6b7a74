/**
 * A Node child process running built code (the `writebehind` CLI, or a bench-side entry under dist/bench/):
 * the worker and the runtime run in processes of their own, so a SIGKILL is a real crash and the load
 * generator does not share their event loop. The last lines of its output are kept for error messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cliEntry } from './repo-root.js';
import { killOnExit } from './kill-on-exit.js';

const KEPT_LINES = 40;

export interface CliProcess {
  readonly pid: number;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** The last lines the process wrote to stdout/stderr. */
  tail(): string;
  /** Calls `listener` with every line the process writes from now on (stdout and stderr). */
  onLine(listener: (line: string) => void): void;
  isRunning(): boolean;
  /** Sends a signal; SIGKILL is the crash, SIGTERM the clean stop. */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if still alive after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<number | string>;
}

/** `writebehind <args>` from dist/src/cli/index.js. */
export function startCliProcess(args: readonly string[], env: Record<string, string> = {}): CliProcess {
  return startNodeProcess(cliEntry(), args, env);
}

/** Extra Node flags for every child, e.g. `BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=prof'` to profile them. */
const CHILD_NODE_ARGS = (process.env['BENCH_NODE_ARGS'] ?? '').split(/\s+/).filter((arg) => arg !== '');

export function startNodeProcess(entry: string, args: readonly string[], env: Record<string, string> = {}): CliProcess {
  const child: ChildProcess = spawn(process.execPath, [...CHILD_NODE_ARGS, entry, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn', ...env },
  });
  killOnExit(child);
  const lines: string[] = [];
  const listeners: ((line: string) => void)[] = [];
  /** Per stream: a line is kept once its newline came (a chunk may end inside one). */
  const keeper = () => {
    let partial = '';
    return (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        if (line.trim() === '') continue;
        lines.push(line);
        for (const listener of listeners) listener(line);
      }
      if (lines.length > KEPT_LINES) lines.splice(0, lines.length - KEPT_LINES);
    };
  };
  child.stdout?.on('data', keeper());
  child.stderr?.on('data', keeper());
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  return {
    pid: child.pid ?? -1,
    exited,
    tail: () => lines.join('\n'),
    onLine: (listener) => listeners.push(listener),
    isRunning: () => child.exitCode === null && child.signalCode === null,
    signal(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}
