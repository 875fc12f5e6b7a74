/**
 * The exactly-once table (`exactlyOnceTable`: `id`, `val`, created if missing) is checked like the writers'
 * tables, as the user runs the worker: one that exists without those columns, or whose `id` is not unique (the
 * cursor upsert would add a row per commit), is refused at start-up, exit 2 naming `exactlyOnceTable`, the
 * table and the column; and a writer's own table is refused as the exactly-once table by the config. Before, the
 * worker started and then retried its first batch for ever on "Unknown column 'id' in 'SELECT'", naming no
 * table; a writer's table with `id` and `val` columns would have taken the cursors as rows.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { exampleConfig, startPipeline, type Pipeline } from './pipeline-helpers.js';

let p: Pipeline;

beforeAll(async () => {
  p = await startPipeline('eotable', exampleConfig({ exactlyOnceTable: 'wb_cursors' }));
});

afterAll(async () => {
  await p?.close();
});

async function startWorker(configFile = p.configFile): Promise<{ code: number | null; stderr: string }> {
  const result = await runCli(['worker', '--redis', p.runtime.url, '--mysql', p.db.url, '--config', configFile], { timeoutMs: 15_000 });
  return { code: result.code, stderr: result.stderr };
}

describe('the exactly-once table at worker start-up', () => {
  it('an existing table without id and val: exit 2 naming exactlyOnceTable, the table and each column', async () => {
    await p.db.query('CREATE TABLE wb_cursors (a INT PRIMARY KEY)');
    const result = await startWorker();
    expect(result.stderr).toContain("exactlyOnceTable: table 'wb_cursors' has no column 'id'");
    expect(result.stderr).toContain("exactlyOnceTable: table 'wb_cursors' has no column 'val'");
    expect(result.code, result.stderr).toBe(2);
  });

  it('an id that is not unique: exit 2 naming exactlyOnceTable and the column', async () => {
    await p.db.query('DROP TABLE wb_cursors');
    await p.db.query('CREATE TABLE wb_cursors (id VARCHAR(255) NOT NULL, val VARCHAR(64) NOT NULL)');
    const result = await startWorker();
    expect(result.stderr).toContain("exactlyOnceTable: column 'id' of table 'wb_cursors' is not its primary key or a unique key");
    expect(result.code, result.stderr).toBe(2);
  });

  it("a writer's table as the exactly-once table: a config error, exit 2 naming exactlyOnceTable and the writer", async () => {
    const file = join(p.configFile, '..', 'writer-table.json');
    writeFileSync(file, JSON.stringify({ ...p.config, exactlyOnceTable: 'persons' }));
    const result = await startWorker(file);
    expect(result.stderr).toContain("exactlyOnceTable: 'persons' is the table of writer 'PersonsWriteBehind' (writers[0].table)");
    expect(result.code, result.stderr).toBe(2);
  });
});
