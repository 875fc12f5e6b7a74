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
  const problems = parsed.error.issues.map((issue) => `${name(issue.path)}: ${describe(issue, options)}`).join('; ');
  throw new ConfigError(`invalid ${command} options: ${problems}`);
}

/** A numeric flag given text fails as `expected number, received NaN` once coerced: say what it got instead. */
function describe(issue: z.core.$ZodIssue, options: unknown): string {
  if (issue.code === 'invalid_type' && issue.expected === 'number' && issue.path.length === 1 && typeof options === 'object' && options !== null) {
    const given = (options as Record<PropertyKey, unknown>)[issue.path[0]!];
    if (given !== undefined) return `must be a number, not '${String(given)}'`;
  }
  return issue.message;
}
