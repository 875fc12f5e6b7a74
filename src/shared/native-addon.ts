/**
 * Finds and loads the package's addons (native/<name>/), which `npm ci` builds through the package's install
 * script. The N-API ones are optional: where one could not be built the caller gets null and falls back
 * (docs/design.md). native/isolate-hooks is not N-API: isolated-vm loads it into each library's isolate.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The package root seen from this module: src/shared/ when run from source, dist/src/shared/ when built. */
const ROOTS = ['../../', '../../../'];

/** The path of the addon built from native/`directory` as `target`.node, or null when it was not built. */
export function addonFile(directory: string, target: string): string | null {
  for (const root of ROOTS) {
    const file = fileURLToPath(new URL(`${root}native/${directory}/build/Release/${target}.node`, import.meta.url));
    if (existsSync(file)) return file;
  }
  return null;
}

/** The N-API addon built from native/`directory` as `target`.node, or null when it was not built. */
export function loadAddon<T>(directory: string, target: string): T | null {
  const file = addonFile(directory, target);
  if (file === null) return null;
  try {
    return createRequire(import.meta.url)(file) as T;
  } catch {
    // Built for another Node (or broken): the caller falls back as if it were not built.
    return null;
  }
}
