/**
 * `writebehind --help` and `writebehind <command> --help` load only the CLI's definitions: each command imports
 * what it runs when it runs (src/cli/commands/*.ts), so a help or a typo does not pay for the Redis and MySQL
 * clients, zod, the runtime and the worker (over a second of module loading). An eager import of a command's
 * implementation coming back brings its packages back, and this fails, whether they are CommonJS or ES modules.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index.js';
import { refusedPort, runCli } from '../helpers/cli.js';

const PROBE = fileURLToPath(new URL('../fixtures/loaded-packages.mjs', import.meta.url));
/** What only running a command needs. */
const HEAVY = ['redis', '@redis/client', 'mysql2', 'prom-client', 'pino', 'isolated-vm', 'zod'];

async function loadedPackages(args: readonly string[]): Promise<string[]> {
  const result = await runCli(args, { env: { NODE_OPTIONS: `--import=${PROBE}` } });
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toMatch(/^Usage: writebehind/);
  return probed(result.stderr);
}

/** The packages the probe reported, from all its `LOADED-PACKAGES` lines. */
function probed(stderr: string): string[] {
  const lines = [...stderr.matchAll(/^LOADED-PACKAGES(.*)$/gm)];
  expect(lines, stderr).not.toEqual([]);
  return [...new Set(lines.flatMap((line) => line[1]!.trim().split(' ')).filter((name) => name !== ''))];
}

/** `--help`, then each command's. */
const HELPS = [['--help'], ...commands.map((command) => [command.name(), '--help'])].map((args) => ({ line: ['writebehind', ...args].join(' '), args }));

describe('CLI startup', () => {
  // zod is ES modules only, so a probe of the CommonJS loader alone would miss it; sonic-boom is reached only
  // by pino's require() calls, so a probe of the ES module loader alone would miss it.
  it('the probe sees an ES module package and a package only required from CommonJS', async () => {
    const { stderr } = await promisify(execFile)(process.execPath, [`--import=${PROBE}`, '--input-type=module', '--eval', "import 'zod/mini'; import 'pino';"]);
    expect(probed(stderr)).toEqual(expect.arrayContaining(['zod', 'pino', 'sonic-boom']));
  });

  it.each(HELPS)('$line loads none of the heavy packages', async ({ args }) => {
    const loaded = await loadedPackages(args);
    expect(loaded).toContain('commander'); // the probe sees CommonJS packages loaded through ESM
    expect(loaded.filter((name) => HEAVY.includes(name))).toEqual([]);
  }, 30_000);

  // What status fails with first: it loads the Redis client and its config, not the worker's metrics, nor the
  // client's modules for Redis Stack's commands (the `redis` package bundles them; @redis/client is the client).
  it('writebehind status against a refused port loads the Redis client only, not prom-client nor the Redis Stack modules', async () => {
    const url = `redis://127.0.0.1:${await refusedPort()}`;
    const result = await runCli(['status', '--redis', url], { env: { NODE_OPTIONS: `--import=${PROBE}` } });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain(`cannot connect to Redis at ${url}: connect ECONNREFUSED`);
    const loaded = probed(result.stderr);
    expect(loaded).toContain('@redis/client');
    expect(loaded.filter((name) => ['prom-client', 'mysql2', 'pino', 'isolated-vm', 'redis', '@redis/bloom', '@redis/json', '@redis/search', '@redis/time-series'].includes(name))).toEqual([]);
  });
});
