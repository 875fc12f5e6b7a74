/**
 * `writebehind verify` against a table that does not match the config (a missing table, a mapped or key column
 * the table lacks), run as the user runs it: a configuration error, exit 2 naming the writer, the table and the
 * column, as the worker's start-up check says it, never exit 1, which for verify means "differences found" (a
 * script would then run --repair, which can heal nothing here).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startPipeline, type Pipeline } from './pipeline-helpers.js';

let p: Pipeline;

beforeAll(async () => {
  p = await startPipeline('verifyschema');
  await p.client.hSet('person:1', { first_name: 'A', last_name: 'B', age: '1' });
});

afterAll(async () => {
  await p?.close();
});

async function verifyWith(drop: string, extra: string[] = []): Promise<{ code: number | null; stderr: string }> {
  await p.db.query(drop);
  const result = await runCli(['verify', '--writer', 'PersonsWriteBehind', '--redis', p.runtime.url, '--mysql', p.db.url, '--config', p.configFile, ...extra], { timeoutMs: 30_000 });
  return { code: result.code, stderr: result.stderr };
}

describe('writebehind verify on a table that does not match the config', () => {
  it('a mapped column the table lacks: exit 2 naming the writer, table and column (also with --repair)', async () => {
    const plain = await verifyWith('ALTER TABLE persons DROP COLUMN age');
    expect(plain.stderr).toContain("writer 'PersonsWriteBehind': table 'persons' has no column 'age'");
    expect(plain.code, plain.stderr).toBe(2);
    const repair = await verifyWith('DO 0', ['--repair']);
    expect(repair.stderr).toContain("table 'persons' has no column 'age'");
    expect(repair.code, repair.stderr).toBe(2);
  });

  it('a missing table: exit 2 naming the writer and the table', async () => {
    const result = await verifyWith('DROP TABLE persons');
    expect(result.stderr).toContain("writer 'PersonsWriteBehind': table 'persons' does not exist");
    expect(result.code, result.stderr).toBe(2);
  });
});
