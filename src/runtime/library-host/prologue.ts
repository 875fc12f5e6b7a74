/**
 * The library's first line, `#!js api_version=1.0 name=lib`, parsed with RedisGears' rules and messages
 * (redisgears_plugin_api prologue.rs): keys in any order, both mandatory, nothing else allowed.
 */

export interface Prologue {
  readonly engine: string;
  /** As declared, e.g. "1.0" (TFUNCTION LIST shows this one). */
  readonly apiVersion: string;
  readonly name: string;
}

export const SUPPORTED_API_VERSIONS = ['1.0', '1.1'] as const;
/** Every supported version gets the newest compatible globals (`into_latest_compatible`). */
export const LATEST_API_VERSION = '1.1';

const INVALID =
  'Invalid or missing prologue. The rules for the prologue are: a) It starts on the first line. b) It is formatted as follows: "#!<engine name> <key>=<value>".';
const KNOWN = ['api_version', 'name'];

/** Throws the RedisGears message (a string) when the prologue is not valid. */
export function parsePrologue(code: string): Prologue {
  const firstLine = code.split(/\r\n|\n|\r/, 1)[0] ?? '';
  if (!firstLine.startsWith('#!')) throw INVALID;
  // Rust's str::lines() strips a trailing \r; trim() also drops surrounding whitespace before the prefix check.
  const header = firstLine.trim().slice(2);
  const [engine = '', ...tokens] = header.split(/[ =]/);
  const properties = new Map<string, string>();
  const duplicated: string[] = [];
  let invalid = false;
  for (let i = 0; i < tokens.length && !invalid; i += 2) {
    const key = tokens[i]!;
    const value = tokens[i + 1];
    if (value === undefined) invalid = true;
    else if (properties.has(key)) duplicated.push(key);
    else if (key === '' || value === '') invalid = true;
    else properties.set(key, value);
  }
  if (invalid) throw INVALID;
  if (duplicated.length > 0) throw `Duplicated prologue properties found: ${duplicated.join(', ')}.`;
  const apiVersion = properties.get('api_version');
  if (apiVersion === undefined) throw 'The api version is missing from the prologue.';
  properties.delete('api_version');
  const parsedVersion = parseApiVersion(apiVersion);
  const name = properties.get('name');
  if (name === undefined) throw 'The library name is missing from the prologue.';
  properties.delete('name');
  if (properties.size > 0) {
    const unknown = [...properties.keys()].map((k) => `"${k}"`).join(', ');
    throw `Unknown prologue properties provided: ${unknown}. Known properties: ${KNOWN.join(', ')}.`;
  }
  return { engine, apiVersion: parsedVersion, name };
}

/** "<major>.<minor>" with u8 parts; the text after a second dot is ignored, as Rust's split does. */
function parseApiVersion(text: string): string {
  const parts = text.split('.');
  const u8 = (part: string | undefined) => (part !== undefined && /^\+?[0-9]+$/.test(part) && Number(part.replace('+', '')) <= 255 ? Number(part.replace('+', '')) : null);
  const major = u8(parts[0]);
  const minor = u8(parts[1]);
  if (major === null || minor === null) {
    throw `The API version has been incorrectly specified: "${text}". The expected format is "<major>.<minor>". An example: "1.1".`;
  }
  return `${major}.${minor}`;
}

/** Throws "An unsupported API version was requested: …" for anything but 1.0 and 1.1. */
export function checkApiVersion(version: string): void {
  if (!(SUPPORTED_API_VERSIONS as readonly string[]).includes(version)) {
    throw `An unsupported API version was requested: ${version}. The supported versions are ${SUPPORTED_API_VERSIONS.join(', ')}.`;
  }
}

/** verify_name: `[A-Za-z0-9_]+`; the message part after "Unallowed … name 'x', ". */
export function nameProblem(name: string): string | null {
  if (name.length === 0) return 'Empty name is not allowed';
  for (const c of name) {
    if (!/^[A-Za-z0-9_]$/.test(c)) return `Unallowed char was given '${c}'`;
  }
  return null;
}
