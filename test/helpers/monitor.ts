/** What a redis-server ran while a test's work ran, from its MONITOR stream. */
import { createClient } from 'redis';

/**
 * The MONITOR lines (`<time> [<db> <client address>] "<command>" …`) of the server at `serverUrl` while `work`
 * ran. `barrier`, a command sent after the work on another connection, is seen last: every earlier command's
 * line is in once it answered.
 */
export async function monitored(serverUrl: string, work: () => Promise<void>, barrier?: () => Promise<unknown>): Promise<string[]> {
  const monitor = createClient({ url: serverUrl });
  await monitor.connect();
  const lines: string[] = [];
  await monitor.monitor((line) => lines.push(line));
  await work();
  await barrier?.();
  await monitor.close();
  return lines;
}
