/**
 * Loads one of the package's N-API addons (native/<name>/), which `npm ci` builds through the package's install
 * script. Each is optional: where it could not be built the caller gets null and falls back (docs/design.md).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The package root seen from this module: src/shared/ when run from source, dist/src/shared/ when built. */
const ROOTS = ['../../', '../../../'];

/** The addon built from native/`directory` as `target`.node, or null when it was not built. */
export function loadAddon<T>(directory: string, target: string): T | null {
  const require = createRequire(import.meta.url);
  for (const root of ROOTS) {
    try {
      return require(fileURLToPath(new URL(`${root}native/${directory}/build/Release/${target}.node`, import.meta.url))) as T;
    } catch {
      // Not built there (or not at all): the next candidate, then null.
    }
  }
  return null;
}
