/**
 * redis-benchmark (shipped with redis-server) as the load generator of the runtime-overhead figures: the same
 * C client drives redis-server and the runtime, so their ratio measures the runtime, not a Node client.
 */
import { execFile } from 'node:child_process';

export interface RedisBenchmarkRun {
  readonly port: number;
  /** Parallel connections (-c). */
  readonly clients: number;
  /** Requests in all (-n). */
  readonly requests: number;
  /** Commands in flight per connection (-P); 1: unpipelined. */
  readonly pipeline: number;
  /** The command, with `__rand_int__` for a random key part (-r 100000). */
  readonly command: readonly string[];
}

/** Requests per second of one run. Rejects when redis-benchmark is missing or any request failed. */
export function redisBenchmark(run: RedisBenchmarkRun): Promise<number> {
  const args = ['-p', String(run.port), '-c', String(run.clients), '-n', String(run.requests), '-P', String(run.pipeline), '-r', '100000', '-q', ...run.command];
  return new Promise((resolve, reject) => {
    execFile('redis-benchmark', args, { encoding: 'utf8', timeout: 300_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`redis-benchmark ${args.join(' ')} failed: ${error.message} ${stderr}`));
      // With -q the last line is "<command>: <n> requests per second, p50=…"; errors print "(error) …" lines.
      if (/\(error\)|ERR /.test(stdout)) return reject(new Error(`redis-benchmark reported errors: ${stdout.slice(0, 500)}`));
      const match = /([\d.]+) requests per second/.exec(stdout.split('\r').pop() ?? stdout);
      if (!match) return reject(new Error(`redis-benchmark printed no rate: ${stdout.slice(-300)}`));
      resolve(Number(match[1]));
    });
  });
}
