/**
 * `node dist/bench/cli-startup.js [runs] [cli.js ...]` (default 15 runs of this build's CLI): how long the CLI
 * takes for `--help` and for `status` against a port where nothing listens (refused at once, so what is left is
 * starting Node and loading the code). Each build given is run in turn with the others, run by run, so a
 * neighbour's load falls on them alike; medians of wall time and of the child's CPU time (user + system, which
 * a loaded machine stretches less than wall time), with min–max. Run from the repository root (status reads
 * config/example.json before it connects).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cliEntry } from './support/repo-root.js';
import { findFreePort } from './support/redis-server-process.js';
import { summarize, type Summary } from './support/stats.js';

/** Clock ticks per second of /proc's CPU times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU time of this process's waited-for children, from /proc/self/stat (cutime + cstime), in ms. */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // The fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // cutime and cstime are fields 16 and 17 of stat(5), counted from 1 with the pid and the name.
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS_PER_SECOND;
}

function runOnce(entry: string, args: readonly string[]): { wallMs: number; cpuMs: number } {
  const cpuBefore = childrenCpuMs();
  const started = performance.now();
  const result = spawnSync(process.execPath, [entry, ...args], { stdio: 'ignore' });
  const wallMs = performance.now() - started;
  if (result.error !== undefined) throw result.error;
  return { wallMs, cpuMs: childrenCpuMs() - cpuBefore };
}

function format(summary: Summary): string {
  return `${Math.round(summary.median)} ms (${Math.round(summary.min)}–${Math.round(summary.max)})`;
}

const runs = Number(process.argv[2] ?? 15);
const entries = process.argv.length > 3 ? process.argv.slice(3) : [cliEntry()];
const refused = await findFreePort();
const commands: Record<string, readonly string[]> = { '--help': ['--help'], 'status, refused': ['status', '--redis', `redis://127.0.0.1:${refused}`] };
const samples = new Map<string, { wall: number[]; cpu: number[] }>();
for (let run = 0; run < runs; run++) {
  for (const entry of entries) {
    for (const [name, args] of Object.entries(commands)) {
      const key = `${entry}  ${name}`;
      const { wallMs, cpuMs } = runOnce(entry, args);
      const kept = samples.get(key) ?? { wall: [], cpu: [] };
      kept.wall.push(wallMs);
      kept.cpu.push(cpuMs);
      samples.set(key, kept);
    }
  }
}
console.log(`${runs} runs each; medians (min–max)`);
for (const [key, { wall, cpu }] of samples) console.log(`${key}: wall ${format(summarize(wall))}, CPU ${format(summarize(cpu))}`);
