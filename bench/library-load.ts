/**
 * `node dist/bench/library-load.js [--loads 20]`: how long loading the built library (dist/writebehind.js) with
 * config/example.json takes, in two views, each the median (min–max) of `--loads` loads:
 *
 * - in the library host's own isolate (GuestLink, as TFUNCTION LOAD uses it, no Redis): the isolate's creation,
 *   the compile of the code in that isolate (untimed, as RedisGears compiles before its lock clock starts), and
 *   the load itself, the guest's LOAD and LOADED calls, which run the compiled top level under the lock timeout
 *   (docs/runtime.md, loading a library);
 * - end to end: `TFUNCTION LOAD REPLACE CONFIG <config> <code>`, as `writebehind deploy` sends it, to a runtime
 *   process in front of a redis-server of its own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from 'redis';
import { LIBRARY_SOURCE } from '../src/generated/library-source.js';
import { Op } from '../src/runtime/library-host/guest/protocol.js';
import { GuestLink, PENDING } from '../src/runtime/library-host/guest-link.js';
import type { LibraryClients } from '../src/runtime/library-host/clients.js';
import { findFreePorts, startRedisServerProcess } from './support/redis-server-process.js';
import { repoRoot } from './support/repo-root.js';
import { startRuntimeProcess } from './support/runtime-cluster-processes.js';
import { summarize } from './support/stats.js';

const argIndex = process.argv.indexOf('--loads');
const loads = (argIndex >= 0 ? Number(process.argv[argIndex + 1]) : 20) || 20;
/** Loads made and thrown away first: the host's own code is cold on the first ones. */
const WARMUP = 3;
const config = JSON.stringify(JSON.parse(readFileSync(join(repoRoot(), 'config/example.json'), 'utf8')));

/** The library's top level calls nothing on the host: a channel that refuses every call is enough. */
const NO_CHANNEL = new Proxy({}, { get: () => () => { throw new Error('the library called the host while loading'); } }) as unknown as LibraryClients;

function inIsolate(): Record<string, number[]> {
  const samples: Record<string, number[]> = { isolate: [], compile: [], load: [] };
  for (let i = 0; i < loads + WARMUP; i++) {
    const t0 = performance.now();
    const link = new GuestLink({ timeoutMs: 60_000, memoryLimitMb: 200, channel: NO_CHANNEL, onUnhandledRejection: () => undefined });
    const t1 = performance.now();
    link.compile(LIBRARY_SOURCE, 'WriteBehind.js');
    const t2 = performance.now();
    const ran = link.invoke(Op.LOAD, config, {}, process.versions.v8);
    const finished = link.invoke(Op.LOADED);
    const t3 = performance.now();
    link.dispose();
    for (const outcome of [ran, finished] as const) {
      if (outcome === PENDING || !outcome.ok) throw new Error(`the library did not load: ${outcome === PENDING ? 'its load did not finish' : outcome.error}`);
    }
    if (i < WARMUP) continue;
    samples['isolate']!.push(t1 - t0);
    samples['compile']!.push(t2 - t1);
    samples['load']!.push(t3 - t2);
  }
  return samples;
}

async function endToEnd(): Promise<number[]> {
  const [serverPort, runtimePort] = await findFreePorts(2);
  const server = await startRedisServerProcess({ port: serverPort! });
  const runtime = await startRuntimeProcess(server, runtimePort!);
  const client = createClient({ url: `redis://127.0.0.1:${runtimePort}` });
  try {
    await client.connect();
    const samples: number[] = [];
    for (let i = 0; i < loads + WARMUP; i++) {
      const t0 = performance.now();
      await client.sendCommand(['TFUNCTION', 'LOAD', 'REPLACE', 'CONFIG', config, LIBRARY_SOURCE]);
      if (i >= WARMUP) samples.push(performance.now() - t0);
    }
    return samples;
  } finally {
    await client.quit().catch(() => undefined);
    await runtime.stop();
    await server.close();
  }
}

function line(label: string, samples: readonly number[]): string {
  const { median, min, max } = summarize(samples);
  return `${label.padEnd(44)} ${median.toFixed(1).padStart(6)} ms  (${min.toFixed(1)}–${max.toFixed(1)})`;
}

const isolate = inIsolate();
const tfunctionLoad = await endToEnd();
console.log(`library ${LIBRARY_SOURCE.length} bytes, ${loads} loads each, medians (min–max)`);
console.log(line('isolate and guest runtime created', isolate['isolate']!));
console.log(line('compile, in the isolate, untimed', isolate['compile']!));
console.log(line('load: top level, timed', isolate['load']!));
console.log(line('TFUNCTION LOAD REPLACE CONFIG, end to end', tfunctionLoad));
