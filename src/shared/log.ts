/**
 * Structured logging: one JSON line per event worth a person's attention (pino). Library classes take a
 * `Logger` in their options and default to a silent one; only the CLI decides where lines go.
 */
import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

export interface LoggerOptions {
  /** pino level: trace, debug, info, warn, error, fatal or silent. */
  level?: string;
  /** Component name put on every line (`runtime`, `worker`, ...). */
  name?: string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino({
    level: options.level ?? process.env['LOG_LEVEL'] ?? 'info',
    ...(options.name === undefined ? {} : { name: options.name }),
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // The MySQL password can reach a log only through a URL or a connection config; redact both.
    redact: { paths: ['password', '*.password', 'mysqlUrl', '*.mysqlUrl'], censor: '[redacted]' },
  });
}

export const silentLogger: Logger = pino({ level: 'silent' });
