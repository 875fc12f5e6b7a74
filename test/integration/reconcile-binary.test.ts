/**
 * `writebehind verify` on a binary column (VARBINARY) with values that are not valid UTF-8: verify reads each
 * page of hashes in one MULTI, and must compare what it reads there byte for byte. Two byte strings that decode
 * to the same text (`ff 41` and `fe 41` are both "\uFFFDA") are different values: the difference is reported
 * and `--repair` writes Redis's bytes back; equal bytes are no difference; a `#` `+` write of such bytes keeps
 * its key (the record's fingerprint is of the bytes, on both sides).
 */
import { RESP_TYPES } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writerKeys } from '../../src/shared/keys.js';
import { silentLogger } from '../../src/shared/log.js';
import { startWorkerService, type WorkerService } from '../../src/worker/worker-service.js';
import { runCli } from '../helpers/cli.js';
import { until } from '../helpers/until.js';
import { exampleConfig, startPipeline, waitDrained, type Pipeline, type TestClient } from './pipeline-helpers.js';

const WRITER = 'FilesWriteBehind';
const KEYS = writerKeys(WRITER);
const config = exampleConfig({ writers: [{ name: WRITER, keysPrefix: 'file', table: 'files', primaryKey: 'file_id', mappings: { data: 'data', name: 'name' } }] });
const bytes = (...b: number[]) => Buffer.from(b);

let p: Pipeline;
let direct: TestClient;
let worker: WorkerService;

beforeAll(async () => {
  p = await startPipeline('verify_binary', config, { settingsCheckMs: 0 });
  await p.db.query('CREATE TABLE files (file_id VARCHAR(64) PRIMARY KEY, data VARBINARY(64), name VARCHAR(64))');
  direct = await p.newDirectClient();
  worker = await startWorkerService({ redisUrl: p.runtime.url, mysqlUrl: p.db.url, config: p.config, metricsPort: 0, log: silentLogger });
});

afterAll(async () => {
  await worker?.close();
  await p?.close();
});

interface VerifyJson {
  missing: { count: number };
  stale: { count: number; examples: Array<{ key: string; columns: Array<{ column: string; redis: string | null; mysql: string | null }> }> };
  orphan: { count: number };
  kept: number;
  repaired: number;
}

async function verify(extra: string[] = []): Promise<{ code: number | null; report: VerifyJson }> {
  const result = await runCli(['verify', '--writer', WRITER, '--redis', p.runtime.url, '--mysql', p.db.url, '--config', p.configFile, '--json', ...extra], { timeoutMs: 60_000 });
  try {
    return { code: result.code, report: JSON.parse(result.stdout) as VerifyJson };
  } catch {
    throw new Error(`verify printed no JSON (exit ${result.code}): ${result.stdout} ${result.stderr}`);
  }
}

const dataOf = async (id: string) => (await p.db.query<Array<{ data: Buffer | null }>>('SELECT data FROM files WHERE file_id = ?', [id]))[0]?.data;
const redisData = async (key: string) => (await direct.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).hGet(key, 'data')) as Buffer | null;

/** Writes `data` through the runtime (captured) and waits for the row to hold exactly those bytes. */
async function writeLanded(id: string, data: Buffer): Promise<void> {
  await p.client.hSet(`file:${id}`, { data, name: `n${id}` });
  await until(() => dataOf(id), (stored) => stored?.equals(data) === true, 20_000);
}

describe('verify on a binary column with non-UTF-8 values', () => {
  it('reports nothing when the row holds the same bytes as the hash', { timeout: 60_000 }, async () => {
    await writeLanded('1', bytes(0xff, 0x41));
    await writeLanded('2', bytes(0x00, 0xc3, 0x28, 0x80));
    await waitDrained(direct, KEYS);

    const result = await verify();
    expect(result.code, JSON.stringify(result.report)).toBe(0);
    expect(result.report).toMatchObject({ missing: { count: 0 }, stale: { count: 0 }, orphan: { count: 0 } });
  });

  it('reports a row whose bytes differ from the hash even where both decode to the same text (fe 41 vs ff 41); --repair restores the hash\'s bytes', { timeout: 60_000 }, async () => {
    await p.db.query("UPDATE files SET data = X'fe41' WHERE file_id = '1'");
    expect(bytes(0xfe, 0x41).toString('utf8')).toBe(bytes(0xff, 0x41).toString('utf8'));

    const found = await verify();
    expect(found.code, JSON.stringify(found.report)).toBe(1);
    expect(found.report.stale).toEqual({ count: 1, examples: [{ key: 'file:1', columns: [{ column: 'data', redis: '0xff41', mysql: '0xfe41' }] }] });

    const repaired = await verify(['--repair']);
    expect(repaired.report).toMatchObject({ stale: { count: 1 }, repaired: 1 });
    await waitDrained(direct, KEYS);
    expect(await dataOf('1')).toEqual(bytes(0xff, 0x41));
    expect(await redisData('file:1')).toEqual(bytes(0xff, 0x41));
    const healed = await verify();
    expect(healed.code, JSON.stringify(healed.report)).toBe(0);
  });

  it('keeps a key written with # + whose new value is not valid UTF-8: its record holds, the row stays as replicated', { timeout: 60_000 }, async () => {
    await writeLanded('3', bytes(0xff, 0x40));
    await p.client.sendCommand(['HSET', 'file:3', 'data', bytes(0xff, 0x42), '#', '+']);
    await waitDrained(direct, KEYS);
    expect(await redisData('file:3')).toEqual(bytes(0xff, 0x42));

    const { code, report } = await verify(['--repair']);
    expect(report).toMatchObject({ stale: { count: 0 }, kept: 1, repaired: 0 });
    expect(code, JSON.stringify(report)).toBe(0);
    await waitDrained(direct, KEYS);
    expect(await dataOf('3')).toEqual(bytes(0xff, 0x40));
    expect(await direct.hExists(KEYS.divergent, 'file:3')).toBe(1);
  });
});
