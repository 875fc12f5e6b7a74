import { expect, it } from 'vitest';
import type { CliProcess } from '../../bench/support/cli-process.js';
import { WorkerGroups } from '../../bench/support/worker-groups.js';

/** A worker process stand-in whose output lines the test writes. */
function fakeWorker(): { worker: CliProcess; write: (line: string) => void } {
  const listeners: ((line: string) => void)[] = [];
  const worker = { onLine: (listener: (line: string) => void) => listeners.push(listener) } as unknown as CliProcess;
  return { worker, write: (line) => listeners.forEach((listener) => listener(line)) };
}

const group = (ms: number, transactionMs: number) => JSON.stringify({ level: 'debug', msg: 'group committed', writer: 'W', batches: 1, records: 9, rows: 9, ms, transactionMs, lagMs: ms + 50 });

it('summarizes the group committed lines of a window: p99 of group and transaction times, and the groups over 100 ms', async () => {
  const { worker, write } = fakeWorker();
  const groups = new WorkerGroups(worker);
  write(group(500, 400)); // before the window
  await new Promise((resolve) => setTimeout(resolve, 5));
  const from = Date.now();
  for (let i = 1; i <= 99; i++) write(group(20, 10));
  write(group(150, 120));
  write('{"level":"debug","msg":"waiting for an earlier batch"}');
  write('{"msg":"group committed", "ms": 5'); // cut short: not counted
  const summary = groups.between(from, Date.now());
  expect(summary).toEqual({ count: 100, p99Ms: 20, transactionP99Ms: 10, slow: 1 });
  write(group(300, 250));
  expect(groups.between(from, Date.now())).toEqual({ count: 101, p99Ms: 150, transactionP99Ms: 120, slow: 2 });
});
