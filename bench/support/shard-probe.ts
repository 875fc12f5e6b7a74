/**
 * What a drain costs the shards, independent of the machine's load: the commands each redis-server ran
 * (`INFO commandstats`, read straight from the servers, so the probe's own commands are not counted through a
 * runtime), and how long a client of a runtime waited at worst for a trivial command (a keyless `TIME` every
 * PROBE_EVERY_MS on each runtime: a library call that holds the runtime's lock for seconds delays it that long).
 */
import { readFileSync } from 'node:fs';
import type { createClient } from 'redis';

type Client = ReturnType<typeof createClient>;

const PROBE_EVERY_MS = 20;

/** Calls per command (lowercase name, subcommands as `xgroup|create`), summed over the servers. */
export async function commandCalls(servers: readonly Client[]): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const server of servers) {
    const info = String(await server.sendCommand(['INFO', 'commandstats']));
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1]!, (calls.get(match[1]!) ?? 0) + Number(match[2]));
  }
  return calls;
}

/** The calls made between two readings, largest first. */
export function callsBetween(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): [string, number][] {
  return [...after].map(([name, n]) => [name, n - (before.get(name) ?? 0)] as [string, number]).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
}

/** The command the probe sends (keyless: a key would be on one shard only); its calls are the probe's too. */
export const PROBE_COMMAND = 'time';

/** Probes every runtime until stop(), which resolves the longest wait seen (ms) and how many probes were sent. */
export function probeLatency(runtimes: readonly Client[]): { stop(): Promise<{ longestMs: number; sent: number }> } {
  let stopped = false;
  let longest = 0;
  let sent = 0;
  const probes = runtimes.map(async (runtime) => {
    while (!stopped) {
      const started = performance.now();
      await runtime.sendCommand([PROBE_COMMAND.toUpperCase()]);
      sent++;
      longest = Math.max(longest, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
    }
  });
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(probes);
      return { longestMs: longest, sent };
    },
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc (0 where there is none). */
export function cpuSeconds(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in ticks.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}
