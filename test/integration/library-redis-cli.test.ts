/**
 * The README's examples, typed into the real redis-cli against the runtime's port, as printed. The lines are
 * fed to redis-cli on stdin, as at its prompt (`redis> HSET person:1 # -`): in a shell, an unquoted `#` would
 * start a comment.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { captured, useLibraryHarness } from '../fixtures/library-harness.js';

const run = promisify(execFile);
const h = useLibraryHarness({ flush: false });

async function redisCli(...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(h.port), ...args]);
  return stdout.trim();
}

/** One line typed at the redis-cli prompt. */
async function typed(line: string): Promise<string> {
  const { stdout } = await run('sh', ['-c', `printf '%s\\n' "$LINE" | redis-cli -p ${h.port}`], { env: { ...process.env, LINE: line } });
  return stdout.trim();
}

describe('redis-cli', () => {
  it('HSET person:007 ... # + adds the hash without replicating it', async () => {
    expect(await typed('HSET person:007 first_name James last_name Bond age 42 # +')).toBe('4');
    expect(await redisCli('HGETALL', 'person:007')).toBe('first_name\nJames\nlast_name\nBond\nage\n42');
    expect(await captured(h.client)).toEqual([]);
  });

  it('HSET person:1 # - deletes the hash without replicating it', async () => {
    await typed('HSET person:1 first_name X # +');
    expect(await typed('HSET person:1 # -')).toBe('1');
    expect(await redisCli('EXISTS', 'person:1')).toBe('0');
    expect(await captured(h.client)).toEqual([]);
  });

  it('the acknowledgement example: HSET ... # =<uuid> is captured with the uuid for the worker to acknowledge', async () => {
    const uuid = randomUUID();
    expect(await typed(`hset person:007 first_name James last_name Bond age 42 # =${uuid}`)).toMatch(/^\d$/);
    expect((await captured(h.client)).at(-1)).toMatchObject({ op: 'u', key: 'person:007', ack: uuid, 'c:first': 'James' });
  });

  it('XREAD BLOCK on {<key>}<uuid> returns status done as the seed prints it (acknowledged at once with +)', async () => {
    const uuid = randomUUID();
    await typed(`hset person:007 first_name James last_name Bond age 42 # +${uuid}`);
    const out = await typed(`XREAD BLOCK 2000 STREAMS {person:007}${uuid} 0-0`);
    const lines = out.split('\n');
    expect(lines[0]).toBe(`{person:007}${uuid}`);
    expect(lines[1]).toMatch(/^\d+-\d+$/);
    expect(lines.slice(2)).toEqual(['status', 'done']);
  });

  it('TFUNCTION LOAD REPLACE CONFIG "$(cat config.json)" < dist/writebehind.js loads the bundle as the README shows', async () => {
    const { stdout } = await run('sh', ['-c', `redis-cli -p ${h.port} -x TFUNCTION LOAD REPLACE CONFIG "$(cat config/example.json)" < dist/writebehind.js`]);
    expect(stdout.trim()).toBe('OK');
    expect(await redisCli('TFCALL', 'WriteBehind.version', '0')).toMatch(/^\d+\.\d+\.\d+/);
    // Back to the test config (the example has no orders/sessions writers).
    await h.deploy();
  });
});
