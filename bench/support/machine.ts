/** The machine a run measured, so every figure can be read against the hardware and versions behind it. */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem, platform, release } from 'node:os';
import type { BenchDatabase } from './bench-database.js';
import { describeMysqlServer } from './bench-database.js';

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly redisServer: string;
  readonly mysql: Record<string, string>;
}

export async function describeMachine(db: BenchDatabase): Promise<MachineInfo> {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()}`,
    node: process.version,
    redisServer: redisServerVersion(),
    mysql: await describeMysqlServer(db),
  };
}

function redisServerVersion(): string {
  try {
    const out = execFileSync('redis-server', ['--version'], { encoding: 'utf8' });
    return /v=(\S+)/.exec(out)?.[1] ?? out.trim();
  } catch {
    return 'not found';
  }
}
