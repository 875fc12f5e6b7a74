/**
 * Progress lines for long work, on stderr so the table on stdout stays clean when piped. A line at most every
 * `intervalMs`, plus the final one, so a ten-minute run never looks hung and never floods the terminal.
 */

export interface Progress {
  /** Reports `done` of `total` units; prints only when the interval has passed or the work is complete. */
  update(done: number, total?: number): void;
  /** Prints a free-form line under the current label. */
  note(message: string): void;
}

export function startProgress(label: string, unit: string, intervalMs = 2000): Progress {
  const started = Date.now();
  let lastPrint = 0;
  return {
    update(done, total) {
      const now = Date.now();
      const complete = total !== undefined && done >= total;
      if (!complete && now - lastPrint < intervalMs) return;
      lastPrint = now;
      const elapsed = (now - started) / 1000;
      const of = total === undefined ? '' : `/${total}`;
      const rate = elapsed > 0 ? ` (${Math.round(done / elapsed)} ${unit}/s)` : '';
      process.stderr.write(`  [${label}] ${done}${of} ${unit} in ${elapsed.toFixed(1)} s${rate}\n`);
    },
    note(message) {
      process.stderr.write(`  [${label}] ${message}\n`);
    },
  };
}

/** A section header for one scenario. */
export function announce(title: string): void {
  process.stderr.write(`\n== ${title}\n`);
}
