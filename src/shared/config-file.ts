/** Reads and validates the config file; every failure is a ConfigError naming the file and the field. */
import { readFile } from 'node:fs/promises';
import { ConfigError } from './errors.js';
import { parseConfig, type WriteBehindConfig } from './config.js';

export async function loadConfigFile(path: string): Promise<WriteBehindConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read config file ${path}`, { cause, context: { path } });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`config file ${path} is not valid JSON`, { cause, context: { path } });
  }
  const result = parseConfig(json);
  if (!result.ok) throw new ConfigError(`${path}: ${result.message}`, { context: { path } });
  return result.config;
}
