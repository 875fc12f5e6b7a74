/**
 * The library code as deployed: the built bundle with its prologue naming the configured library, because the
 * config's `name` is the TFCALL namespace (`<name>.cut`) and one Redis may hold several configured libraries.
 */
import { LIBRARY_SOURCE } from '../generated/library-source.js';
import { ConfigError } from '../shared/errors.js';

const PROLOGUE_NAME = /^(#!js\b[^\n]*?\bname=)[^\s]+/;
const GEARS_NAME = /^[A-Za-z0-9_]+$/;

export function libraryCodeFor(name: string, code: string = LIBRARY_SOURCE): string {
  if (!GEARS_NAME.test(name)) throw new ConfigError(`library name '${name}' must match [A-Za-z0-9_]+`, { context: { name } });
  if (!PROLOGUE_NAME.test(code)) throw new ConfigError('library code does not start with a "#!js ... name=..." prologue', { context: { prologue: code.slice(0, 80) } });
  return code.replace(PROLOGUE_NAME, `$1${name}`);
}
