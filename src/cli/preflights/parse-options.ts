/**
 * Checks a command's flags (and the environment defaults folded into them) against its zod schema, turning
 * every problem into one ConfigError that names the flag (`--metrics-port: ...`), so main() exits with 2.
 */
import type * as z from 'zod';
import { ConfigError } from '../../shared/errors.js';

export function parseOptions<S extends z.ZodType>(command: string, schema: S, options: unknown): z.output<S> {
  const parsed = schema.safeParse(options);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `--${issue.path.map((p) => String(p).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)).join('.')}: ${issue.message}`).join('; ');
  throw new ConfigError(`invalid ${command} options: ${problems}`);
}
