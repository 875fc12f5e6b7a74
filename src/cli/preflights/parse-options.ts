/**
 * Checks a command's flags (and the environment defaults folded into them) against its zod schema, turning
 * every problem into one ConfigError that names the flag (`--metrics-port: ...`), so main() exits with 2.
 */
import type * as z from 'zod';
import { ConfigError } from '../../shared/errors.js';

/** `args`: how to name the options that are positional arguments, not flags (`{ action: '<action>' }`). */
export function parseOptions<S extends z.ZodType>(command: string, schema: S, options: unknown, args: Readonly<Record<string, string>> = {}): z.output<S> {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  const name = (path: readonly PropertyKey[]) => args[String(path[0])] ?? `--${path.map((p) => String(p).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)).join('.')}`;
  const problems = parsed.error.issues.map((issue) => `${name(issue.path)}: ${issue.message}`).join('; ');
  throw new ConfigError(`invalid ${command} options: ${problems}`);
}
