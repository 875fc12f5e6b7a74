/**
 * The repository root, found from this file's location (bench/support/ when run by vitest from source,
 * dist/bench/support/ when run built), so child processes start the built CLI wherever the caller runs from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'redis-writebehind') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('repository root (package.json of redis-writebehind) not found above bench/support');
    dir = parent;
  }
}

/** The built CLI entry point (`npm run build` writes it). */
export function cliEntry(): string {
  return join(repoRoot(), 'dist/src/cli/index.js');
}
