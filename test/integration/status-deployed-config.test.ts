/**
 * `writebehind status` with a config that is not the one the library was deployed with, run as the user runs
 * it: a writer the library lacks, or captures otherwise (here another table), is flagged by name and field, as
 * the worker's start-up check names it, in text and JSON. Before, status printed such a writer like a healthy
 * idle one (backlog 0, captured 0): an operator with the wrong config file saw nothing wrong, while the
 * library captured nothing for it, or the worker refused to start.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startPipeline, type Pipeline } from './pipeline-helpers.js';

let p: Pipeline;
let otherConfig: string;

beforeAll(async () => {
  p = await startPipeline('statusdeployed');
  const [persons, cars] = p.config.writers;
  otherConfig = join(p.configFile, '..', 'other.json');
  writeFileSync(otherConfig, JSON.stringify({ ...p.config, writers: [{ ...persons, table: 'people' }, cars, { ...cars, name: 'TrucksWriteBehind', keysPrefix: 'truck' }] }));
});

afterAll(async () => {
  await p?.close();
});

describe('writebehind status against a library deployed with another config', () => {
  it('names each writer the library lacks or captures otherwise, and the field; the matching writer is not flagged', async () => {
    const text = await runCli(['status', '--redis', p.runtime.url, '--config', otherConfig]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain("WARNING: PersonsWriteBehind does not match the deployed library: writers[0].table: writer 'PersonsWriteBehind' has \"people\" here, \"persons\" in the deployed library");
    expect(text.stdout).toContain("WARNING: TrucksWriteBehind does not match the deployed library: writers[2].name: writer 'TrucksWriteBehind' is not in the deployed library");
    expect(text.stdout).not.toContain('WARNING: CarsWriteBehind');

    const json = await runCli(['status', '--redis', p.runtime.url, '--config', otherConfig, '--json']);
    const writers = (JSON.parse(json.stdout) as { writers: Array<{ writer: string; deployedConfigMismatches: string[] }> }).writers;
    expect(writers.map((w) => [w.writer, w.deployedConfigMismatches.length])).toEqual([['PersonsWriteBehind', 1], ['CarsWriteBehind', 0], ['TrucksWriteBehind', 1]]);
  });

  it('the deployed config itself: no warning', async () => {
    const result = await runCli(['status', '--redis', p.runtime.url, '--config', p.configFile]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toContain('WARNING');
  });
});
