/**
 * Bad inputs, one of each, written during the load: each must get a clear outcome and affect nothing else.
 * Values a VARCHAR/INT column can hold exactly (SQL-ish text, quotes and backslashes, unicode) must arrive
 * verbatim; values it cannot (too long, not a number, NULL into NOT NULL, invalid UTF-8, a key without an
 * id or with a non-numeric one, an unknown `#` flag) must be dead-lettered with a reason. Then a worker
 * started with a config naming a missing column must exit non-zero with a message naming it.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { writeConfigFile } from '../../support/bench-config.js';
import { sleep } from '../../support/sleep.js';
import { ackStreamKey } from '../../../src/shared/keys.js';
import type { Fault, RoundEnvironment } from '../chaos-round.js';
import { CHAOS_PREFIX, CHAOS_TABLE, chaosConfig, chaosKeys } from '../chaos-schema.js';

type Expectation = 'verbatim' | 'dead-lettered';

interface BadInput {
  readonly what: string;
  readonly key: string;
  readonly fields: Record<string, string | Buffer>;
  readonly expect: Expectation;
  /** Ask for an acknowledgement and expect this status. */
  readonly ack?: 'failed';
}

const base = { last_name: 'l', age: '1', version: '1' };

const INPUTS: readonly BadInput[] = [
  { what: 'unknown # flag', key: `${CHAOS_PREFIX}:800001`, fields: { first_name: 'f', ...base }, expect: 'dead-lettered', ack: 'failed' },
  { what: 'value too long', key: `${CHAOS_PREFIX}:800002`, fields: { first_name: 'y'.repeat(65), ...base }, expect: 'dead-lettered' },
  { what: 'non-numeric into INT', key: `${CHAOS_PREFIX}:800003`, fields: { first_name: 'f', last_name: 'l', age: '12abc', version: '1' }, expect: 'dead-lettered' },
  { what: 'NULL into NOT NULL', key: `${CHAOS_PREFIX}:800004`, fields: { ...base }, expect: 'dead-lettered' },
  { what: 'invalid UTF-8 bytes into VARCHAR', key: `${CHAOS_PREFIX}:800005`, fields: { first_name: Buffer.from([0xff, 0xfe, 0x00, 0x41]), ...base }, expect: 'dead-lettered' },
  { what: 'primary key missing (key "cp:")', key: `${CHAOS_PREFIX}:`, fields: { first_name: 'f', ...base }, expect: 'dead-lettered' },
  { what: 'non-numeric primary key into BIGINT', key: `${CHAOS_PREFIX}:abc`, fields: { first_name: 'f', ...base }, expect: 'dead-lettered' },
  { what: 'SQL-ish text', key: `${CHAOS_PREFIX}:800008`, fields: { first_name: "Robert'); DROP TABLE chaos_persons;--", ...base }, expect: 'verbatim' },
  { what: 'quotes and backslashes', key: `${CHAOS_PREFIX}:800009`, fields: { first_name: `O'Brien "q" \\ \\' %_`, ...base }, expect: 'verbatim' },
  { what: 'unicode (4-byte too)', key: `${CHAOS_PREFIX}:800010`, fields: { first_name: 'Zoë 日本 🐍', ...base }, expect: 'verbatim' },
];

export function badInputs(): Fault {
  const acks = new Map<string, string>();
  return {
    name: 'bad inputs',
    async inject(env) {
      for (const input of INPUTS) if (input.expect === 'dead-lettered') env.excluded.add(Number(input.key.slice(CHAOS_PREFIX.length + 1)));
      const gap = (env.seconds * 1000) / (INPUTS.length + 2);
      for (const input of INPUTS) {
        await sleep(gap);
        const fields: Record<string, string | Buffer> = { ...input.fields };
        if (input.ack !== undefined) {
          const uuid = randomUUID();
          acks.set(input.key, uuid);
          fields['#'] = `?${uuid}`;
        }
        await env.client.hSet(input.key, fields);
        env.extraChanges++;
      }
      const failures = await startWithMissingColumn(env);
      return { injected: `${INPUTS.length} inputs + 1 config naming a missing column`, failures, notes: [] };
    },
    async check(env) {
      const failures: string[] = [];
      const letters = await env.direct.xRange(chaosKeys.deadLetters, '-', '+');
      const reasons = new Map<string, string>();
      for (const { message } of letters) reasons.set(message['key'] ?? '', message['dlq:reason'] ?? '');
      for (const input of INPUTS) {
        const id = input.key.slice(CHAOS_PREFIX.length + 1);
        const rows = /^[0-9]+$/.test(id) ? await env.db.query<Array<{ first: string }>>(`SELECT first FROM ${CHAOS_TABLE} WHERE person_id = ?`, [id]) : [];
        if (input.expect === 'verbatim') {
          if (rows[0]?.first !== input.fields['first_name']) failures.push(`${input.what}: row is ${JSON.stringify(rows[0]?.first)}, expected the value verbatim`);
        } else {
          if (rows.length > 0) failures.push(`${input.what}: a row was written`);
          if ((reasons.get(input.key) ?? '') === '') failures.push(`${input.what}: no dead letter with a reason for ${input.key}`);
        }
        const uuid = acks.get(input.key);
        if (uuid !== undefined) {
          const reply = await env.direct.xRange(ackStreamKey(input.key, uuid), '-', '+');
          if (reply[0]?.message['status'] !== input.ack) failures.push(`${input.what}: acknowledgement ${JSON.stringify(reply[0]?.message ?? null)}, expected status ${input.ack}`);
        }
      }
      return failures;
    },
  };
}

/** A worker whose config maps a column the table lacks must refuse to start, naming the column. */
async function startWithMissingColumn(env: RoundEnvironment): Promise<string[]> {
  const dir = mkdtempSync(`${tmpdir()}/wb-chaos-config-`);
  try {
    const config = chaosConfig();
    const broken = { ...config, writers: config.writers.map((w) => ({ ...w, mappings: { ...w.mappings, nickname: 'no_such_column' } })) };
    const worker = env.pipeline.startWorker({ consumer: 'chaos-broken-config', configFile: writeConfigFile(dir, broken) });
    const exit = await Promise.race([worker.exited, sleep(15_000).then(() => 'still running' as const)]);
    if (exit === 'still running') {
      worker.signal('SIGKILL');
      return ['a worker with a config naming a missing column kept running'];
    }
    if (exit === 0) return ['a worker with a config naming a missing column exited 0'];
    if (!worker.tail().includes('no_such_column')) return [`the start-up error does not name the missing column: ${worker.tail().split('\n').at(-1) ?? ''}`];
    return [];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
