/**
 * `writebehind --help` and `writebehind <command> --help` load only the CLI's definitions: each command imports
 * what it runs when it runs (src/cli/commands/*.ts), so a help or a typo does not pay for the Redis and MySQL
 * clients, the runtime and the worker (over a second of module loading). An eager import of a command's
 * implementation coming back brings its packages back, and this fails.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index.js';
import { runCli } from '../helpers/cli.js';

const PROBE = fileURLToPath(new URL('../fixtures/loaded-packages.mjs', import.meta.url));
/** What only running a command needs. */
const HEAVY = ['redis', '@redis/client', 'mysql2', 'prom-client', 'pino', 'isolated-vm'];

async function loadedPackages(args: readonly string[]): Promise<string[]> {
  const result = await runCli(args, { env: { NODE_OPTIONS: `--import=${PROBE}` } });
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toMatch(/^Usage: writebehind/);
  const line = /^LOADED-PACKAGES(.*)$/m.exec(result.stderr);
  expect(line, result.stderr).not.toBeNull();
  return line![1]!.trim().split(' ').filter((name) => name !== '');
}

/** `--help`, then each command's. */
const HELPS = [['--help'], ...commands.map((command) => [command.name(), '--help'])].map((args) => ({ line: ['writebehind', ...args].join(' '), args }));

describe('CLI startup', () => {
  it.each(HELPS)('$line loads none of the heavy packages', async ({ args }) => {
    const loaded = await loadedPackages(args);
    expect(loaded).toContain('commander'); // the probe sees CommonJS packages loaded through ESM
    expect(loaded.filter((name) => HEAVY.includes(name))).toEqual([]);
  }, 30_000);
});
