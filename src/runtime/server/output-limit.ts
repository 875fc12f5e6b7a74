/**
 * The `normal` class of the backing server's `client-output-buffer-limit`, which the runtime applies to its own
 * clients (client-output.ts): redis-server applies it to the runtime's connection for what the runtime has not
 * read yet, and the runtime to its client for what the client has not taken. Read at start, again at each
 * settings check (settings-check.ts) and after a client's `CONFIG SET client-output-buffer-limit` through the
 * runtime, so that a limit set through either takes effect as on redis-server: at once.
 */
import type { Logger } from '../../shared/log.js';
import { errorMessage } from '../../shared/errors.js';
import { sendConfig } from './config-command.js';
import { OUTPUT_LIMIT_SETTING } from './kept-settings.js';
import type { RedisConnection } from './redis-connection.js';

/** Bytes (0: no limit) and seconds, as CONFIG GET shows them. */
export interface OutputLimit {
  readonly hard: number;
  readonly soft: number;
  readonly softSeconds: number;
}

export const NO_OUTPUT_LIMIT: OutputLimit = { hard: 0, soft: 0, softSeconds: 0 };

/** The `normal` class of a `client-output-buffer-limit` value as CONFIG GET shows it (bytes), or null. */
export function normalOutputLimitOf(value: string): OutputLimit | null {
  const normal = /(?:^|\s)normal (\d+) (\d+) (\d+)/.exec(value);
  return normal === null ? null : { hard: Number(normal[1]), soft: Number(normal[2]), softSeconds: Number(normal[3]) };
}

export class ServerOutputLimit {
  #current: OutputLimit = NO_OUTPUT_LIMIT;
  readonly #control: RedisConnection;
  readonly #log: Logger;

  constructor(control: RedisConnection, log: Logger) {
    this.#control = control;
    this.#log = log;
  }

  get current(): OutputLimit {
    return this.#current;
  }

  /** A `client-output-buffer-limit` value CONFIG GET returned. */
  note(value: string): void {
    this.#current = normalOutputLimitOf(value) ?? this.#current;
  }

  /**
   * Reads it from the server. Where CONFIG is unavailable the limit stays as it was (none at start): the runtime
   * then only bounds what a client is owed by not reading it (CLIENT_BACKLOG_BYTES).
   */
  async refresh(): Promise<void> {
    try {
      const got = await sendConfig(this.#control, ['GET', OUTPUT_LIMIT_SETTING]);
      if ('entries' in got) this.note(got.entries.get(OUTPUT_LIMIT_SETTING) ?? '');
    } catch (cause) {
      this.#log.warn({ err: errorMessage(cause) }, 'reading client-output-buffer-limit from redis-server failed: the runtime keeps applying the normal class limit it had');
    }
  }
}
