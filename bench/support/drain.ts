/**
 * Waiting for a writer's backlog to empty (the library trims the capture stream up to the commit cursor, so
 * an empty capture stream means everything captured is committed). When it does not empty in time, the error
 * says why as far as Redis and the worker know: records left, the writer's last error, the worker's last log.
 */
import type { RedisClientType } from 'redis';
import type { StreamKeys } from '../../src/shared/keys.js';
import type { CliProcess } from './cli-process.js';
import { waitFor } from './wait.js';

export async function waitForDrain(client: RedisClientType, keys: StreamKeys, worker: CliProcess, timeoutMs: number, onLeft: (left: number) => void = () => {}): Promise<void> {
  let left = -1;
  try {
    await waitFor('the backlog to drain', async () => {
      left = await client.xLen(keys.changes);
      onLeft(left);
      return left === 0;
    }, timeoutMs, 100);
  } catch (error) {
    const meta = await client.hGetAll(keys.meta);
    throw new Error(`${error instanceof Error ? error.message : String(error)}: ${left} records left; writer last_error: ${meta['last_error'] ?? 'none'}; worker ${worker.isRunning() ? 'running' : 'exited'}, last log: ${lastLogMessage(worker.tail())}`);
  }
}

/** The `msg` of the last JSON log line a process wrote (or its last raw line). */
export function lastLogMessage(tail: string): string {
  const last = tail.split('\n').at(-1) ?? '';
  try {
    const parsed = JSON.parse(last) as { msg?: unknown };
    return typeof parsed.msg === 'string' ? parsed.msg : last;
  } catch {
    return last;
  }
}
