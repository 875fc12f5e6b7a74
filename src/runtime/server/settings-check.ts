/**
 * The runtime keeps two settings of redis-server (kept-settings.ts), and keeps them in a client's CONFIG SET
 * through it; a `CONFIG SET` sent to redis-server directly (an operator, a tool, another proxy) still changes
 * them, and nothing tells the runtime: with the notify flags gone its triggers stop without an error and writes
 * are not captured. So it asks, every `intervalMs`, on its control connection (`CONFIG GET notify-keyspace-events
 * client-output-buffer-limit`: one round trip, no lock), and for a setting found changed:
 *
 * - sets it back (the notify flags as found plus the runtime's, or `pubsub 0 0 0`);
 * - logs an error naming the setting, the value found and what it means;
 * - for the notify flags, counts an unclean stop (unclean-stops.ts), after setting them back, so that the
 *   worker's repair, which follows the count, starts once writes are captured again and re-captures what the
 *   runtime missed in between. A pubsub limit alone loses nothing (a dropped subscription closes the runtime,
 *   which then counts its own unclean stop), so it counts none: a repair is a full pass over the data;
 * - counts it in the runtime's metrics (SettingsMeter).
 *
 * A change made and undone between two checks goes unnoticed. Not run where CONFIG was unavailable at start
 * (nothing can be read), and skipped while the server is a replica, whose runtime fires nothing.
 */
import { errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { sendConfig } from './config-command.js';
import { changedSettings, missingNotifyFlags, NOTIFY_SETTING, OUTPUT_LIMIT_SETTING, type ChangedSetting, type KeptSettings } from './kept-settings.js';
import type { RedisConnection } from './redis-connection.js';

/** Told each setting found changed (runtime-metrics.ts). */
export interface SettingsMeter {
  settingChanged(setting: ChangedSetting['setting']): void;
}

export interface SettingsCheckOptions {
  readonly control: RedisConnection;
  readonly kept: KeptSettings;
  readonly intervalMs: number;
  /** Triggers fire (not a replica's runtime): the check is skipped while they do not. */
  readonly firing: () => boolean;
  /** Counts an unclean stop (RunningMark.countUncleanStop); null when there is nowhere to count it. */
  readonly countUncleanStop: () => Promise<number | null>;
  readonly meter?: SettingsMeter;
  /** The `client-output-buffer-limit` value read, each check (its `normal` class applies to clients, output-limit.ts). */
  readonly onOutputLimit?: (value: string) => void;
  readonly log: Logger;
}

export class SettingsCheck {
  readonly #options: SettingsCheckOptions;
  readonly #timer: NodeJS.Timeout;
  /** Settings found changed that could not be set back, with the value found: reported once while it stays. */
  readonly #unrestored = new Map<string, string>();
  #running: Promise<void> | null = null;
  #closed = false;
  #configRefused = false;

  constructor(options: SettingsCheckOptions) {
    this.#options = options;
    this.#timer = setInterval(() => this.#tick(), options.intervalMs);
    // Never what keeps the process alive: close() stops it, and a process that is otherwise done may exit.
    this.#timer.unref();
  }

  /** Stops the checks and waits for one in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#running;
  }

  #tick(): void {
    if (this.#running !== null || this.#closed || !this.#options.firing()) return;
    this.#running = this.#check()
      .catch((error: unknown) => this.#options.log.warn({ err: errorMessage(error) }, 'checking the settings the runtime keeps on redis-server failed; trying again'))
      .finally(() => {
        this.#running = null;
      });
  }

  async #check(): Promise<void> {
    const { control, kept, log } = this.#options;
    const got = await sendConfig(control, ['GET', NOTIFY_SETTING, OUTPUT_LIMIT_SETTING]);
    if ('unavailable' in got) {
      // CONFIG was there at start: an ACL changed since. Said once; tried again every interval.
      if (!this.#configRefused) log.warn({ config: got.unavailable }, 'CONFIG is refused to the runtime now: it can no longer check that notify-keyspace-events and client-output-buffer-limit keep what its triggers need');
      this.#configRefused = true;
      return;
    }
    this.#configRefused = false;
    const limit = got.entries.get(OUTPUT_LIMIT_SETTING);
    if (limit !== undefined) this.#options.onOutputLimit?.(limit);
    const changed = changedSettings(got.entries, kept);
    for (const setting of this.#unrestored.keys()) {
      if (!changed.some((c) => c.setting === setting)) this.#unrestored.delete(setting);
    }
    for (const change of changed) {
      if (this.#closed) return;
      if (this.#unrestored.get(change.setting) === change.found) continue;
      await this.#restore(change);
    }
  }

  async #restore(change: ChangedSetting): Promise<void> {
    const { control, log } = this.#options;
    const set = await sendConfig(control, ['SET', change.setting, change.setBack]);
    const refused = 'unavailable' in set ? set.unavailable : null;
    if (refused === null) this.#unrestored.delete(change.setting);
    else this.#unrestored.set(change.setting, change.found);
    this.#options.meter?.settingChanged(change.setting);
    const context = { setting: change.setting, found: change.found, setBack: refused === null ? change.setBack : null, ...(refused === null ? {} : { config: refused }) };
    const back = refused === null
      ? `set back to "${change.setBack}"`
      : `it could not be set back (CONFIG SET refused: put \`${change.setting} ${change.setBack}\` in redis.conf)`;
    if (change.setting === OUTPUT_LIMIT_SETTING) {
      log.error(context, `redis-server's client-output-buffer-limit was changed, not through the runtime: its pubsub class has a limit again, so a burst of changes to watched keys may make redis-server drop the runtime's keyspace subscription (the runtime then closes, and counts an unclean stop); ${back}. Nothing was missed while the subscription held: no unclean stop is counted`);
      return;
    }
    let uncleanStops: number | null = null;
    let countFailed: string | undefined;
    try {
      uncleanStops = await this.#options.countUncleanStop();
    } catch (error) {
      countFailed = errorMessage(error);
    }
    const counted = uncleanStops !== null
      ? 'counted as an unclean stop: a worker re-captures what MySQL disagrees with'
      : `NOT counted as an unclean stop (${countFailed ?? 'this runtime has no running mark to count against'}): run \`writebehind verify --repair\``;
    log.error(
      { ...context, missing: missingNotifyFlags(change.found), uncleanStops, ...(countFailed === undefined ? {} : { countFailed }) },
      `redis-server's notify-keyspace-events was changed, not through the runtime, to "${change.found}": redis-server did not publish the events the runtime's triggers need, so writes to watched keys since it was changed (normally less than one check interval, ${this.#options.intervalMs} ms, ago) may not have been captured; ${back}; ${counted}`,
    );
  }
}
