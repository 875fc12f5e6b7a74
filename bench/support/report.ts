/**
 * The run's report: a fixed-width table on stdout, results.json (everything, samples included) and
 * results.md (the table and the machine, ready to paste into docs). Ratios are computed from medians.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchScale, Figure, ScenarioResult } from '../scenario.js';
import type { MachineInfo } from './machine.js';

export interface Ratio {
  readonly label: string;
  readonly value: number | null;
  /** What the ratio is held against, e.g. "target ≥ 0.8". */
  readonly target?: string;
}

export interface BenchReport {
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly scale: BenchScale;
  readonly machine: MachineInfo;
  readonly scenarios: readonly ScenarioResult[];
  readonly ratios: readonly Ratio[];
}

export function findFigure(scenarios: readonly ScenarioResult[], id: string): Figure | undefined {
  for (const scenario of scenarios) for (const figure of scenario.figures) if (figure.id === id) return figure;
  return undefined;
}

/** median(numerator) / median(denominator), or null when either figure is missing. */
export function ratioOf(scenarios: readonly ScenarioResult[], numerator: string, denominator: string): number | null {
  const n = findFigure(scenarios, numerator);
  const d = findFigure(scenarios, denominator);
  if (n === undefined || d === undefined || d.summary.median === 0) return null;
  return n.summary.median / d.summary.median;
}

const HEADER = ['scenario', 'figure', 'median', 'min', 'max', 'unit', 'measured through'] as const;

function tableRows(report: BenchReport): string[][] {
  const rows: string[][] = [];
  for (const scenario of report.scenarios) {
    if (scenario.skipped !== undefined) {
      rows.push([scenario.title, `skipped: ${scenario.skipped}`, '', '', '', '', '']);
      continue;
    }
    for (const figure of scenario.figures) {
      rows.push([scenario.title, figure.label, formatNumber(figure.summary.median), formatNumber(figure.summary.min), formatNumber(figure.summary.max), figure.unit, figure.origin]);
    }
  }
  for (const ratio of report.ratios) {
    rows.push(['ratio', ratio.label, ratio.value === null ? 'n/a' : formatRatio(ratio.value), '', '', ratio.target ?? '', 'medians']);
  }
  return rows;
}

/** Two significant digits below 1, so a ratio under its target never prints as the target (0.0494 is 0.049). */
export function formatRatio(value: number): string {
  return Math.abs(value) < 1 ? value.toPrecision(2) : value.toFixed(2);
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function renderTextTable(report: BenchReport): string {
  const rows = [[...HEADER], ...tableRows(report)];
  const widths = HEADER.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c >= 2 && c <= 4 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function renderMachine(machine: MachineInfo): string {
  return `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB; ${machine.os}; Node ${machine.node}; redis-server ${machine.redisServer}; ` +
    `MariaDB/MySQL ${machine.mysql['version']} (innodb_flush_log_at_trx_commit=${machine.mysql['innodbFlushLogAtTrxCommit']}, log_bin=${machine.mysql['logBin']})`;
}

export function renderMarkdown(report: BenchReport): string {
  const rows = tableRows(report);
  const out = [
    `# Benchmark results (${report.startedAt})`,
    '',
    `Machine: ${renderMachine(report.machine)}.`,
    '',
    `Scale: ${report.scale.rows} rows per repetition, ${report.scale.reps} repetitions${report.scale.quick ? ' (--quick)' : ''}; run took ${Math.round(report.durationSeconds)} s.`,
    '',
    `| ${HEADER.join(' | ')} |`,
    `|${HEADER.map((_, c) => (c >= 2 && c <= 4 ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`),
    '',
    'Figures measured through `local-runtime` pass through this project\'s development runtime (a Node process in front of redis-server), not through Redis Stack\'s RedisGears module.',
    '',
    ...report.scenarios.flatMap((s) => s.notes.map((n) => `- ${s.title}: ${n}`)),
    '',
  ];
  return out.join('\n');
}

export async function writeReport(report: BenchReport, dir: string): Promise<{ json: string; markdown: string }> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, 'results.json');
  const markdown = join(dir, 'results.md');
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(markdown, renderMarkdown(report));
  return { json, markdown };
}
