/**
 * One error hierarchy for everything outside Redis. Each error carries a stable `code`, the original error as
 * ES `cause`, and `context` (stream, ids, table, command, MySQL errno/sqlState...). `toJSON()` is what goes into
 * dead-letter entries and structured logs.
 */
export type ErrorContext = Record<string, unknown>;

export class WriteBehindError extends Error {
  readonly code: string;
  readonly context: ErrorContext;

  constructor(code: string, message: string, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.context = options.context ?? {};
  }

  toJSON(): Record<string, unknown> {
    const cause = this.cause;
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      context: this.context,
      ...(cause === undefined ? {} : { cause: cause instanceof WriteBehindError ? cause.toJSON() : describeCause(cause) }),
    };
  }
}

/** A configuration or command-line value was rejected; the message names the field. */
export class ConfigError extends WriteBehindError {
  constructor(message: string, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super('CONFIG', message, options);
  }
}

/** TFUNCTION LOAD refused a library (the runtime's or the server's message is kept). */
export class LibraryLoadError extends WriteBehindError {
  constructor(message: string, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super('LIBRARY_LOAD', message, options);
  }
}

/** A Redis command failed; context names the command and key. */
export class RedisCommandError extends WriteBehindError {
  constructor(message: string, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super('REDIS_COMMAND', message, options);
  }
}

/** A Redis connection could not be opened: the message names the URL (password redacted) and the cause. */
export class RedisConnectionError extends WriteBehindError {
  constructor(message: string, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super('REDIS_CONNECT', message, options);
  }
}

/**
 * Another runtime holds the lease on the redis-server (runtime/runtime-lease.ts): the message names the holder,
 * context.suggestion the fix.
 */
export class RuntimeLeaseError extends WriteBehindError {
  constructor(message: string, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super('RUNTIME_LEASE', message, options);
  }
}

/** Deploying the library failed. */
export class DeployError extends WriteBehindError {
  constructor(message: string, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super('DEPLOY', message, options);
  }
}

function describeCause(cause: unknown): unknown {
  if (!(cause instanceof Error)) return cause;
  const out: Record<string, unknown> = { name: cause.name, message: cause.message };
  for (const field of ['code', 'errno', 'sqlState', 'sqlMessage'] as const) {
    const value = (cause as unknown as Record<string, unknown>)[field];
    if (value !== undefined) out[field] = value;
  }
  return out;
}

/** The message of anything thrown, including the plain strings RedisGears throws. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
