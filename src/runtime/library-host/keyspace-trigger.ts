/** A keyspace trigger registered by a library, with the stats TFUNCTION LIST shows (kept across REPLACE). */
import { hasPrefix } from '../../shared/byte-prefix.js';

export interface KeyspaceTriggerStats {
  numTrigger: number;
  numSuccess: number;
  numFailed: number;
  numFinished: number;
  lastError: string | null;
  /** ms */
  lastExecutionTime: number;
  /** ms */
  totalExecutionTime: number;
}

export class KeyspaceTrigger {
  constructor(
    readonly name: string,
    readonly prefix: Buffer,
    /** The guest's index of the callback (and of its onTriggerFired). */
    readonly index: number,
    /** The callback is an `async function`: it runs later, on the library's background thread. */
    readonly isAsync: boolean,
    readonly hasOnTriggerFired: boolean,
    readonly description: string | null,
    readonly stats: KeyspaceTriggerStats = newKeyspaceTriggerStats(),
  ) {}

  matches(key: Buffer): boolean {
    return hasPrefix(key, this.prefix);
  }

  /** Bookkeeping of one finished execution (keys_notifications.rs: finished, time, then failed or success). */
  recordFinished(startedAt: number, error: string | null): void {
    const duration = Math.max(0, Math.round(performance.now() - startedAt));
    this.stats.numFinished += 1;
    this.stats.lastExecutionTime = duration;
    this.stats.totalExecutionTime += duration;
    if (error === null) this.stats.numSuccess += 1;
    else {
      this.stats.numFailed += 1;
      this.stats.lastError = error;
    }
  }
}

export function newKeyspaceTriggerStats(): KeyspaceTriggerStats {
  return { numTrigger: 0, numSuccess: 0, numFailed: 0, numFinished: 0, lastError: null, lastExecutionTime: 0, totalExecutionTime: 0 };
}
