/**
 * The reply of the library's `backfill`, `delete_missing` and `recapture` functions (JSON text), checked where it
 * enters: counts added to the reply after the first release are 0 when a library deployed before them omits
 * them, and a reply that is not counts is an error naming it (before, a cast let an older library's reply sum
 * to NaN). Apart from reconcile-redis.ts so that `--help` of the commands that import that one loads no zod.
 */
import * as z from 'zod';
import type { RecaptureCounts } from '../shared/protocol.js';

const count = z.number().int().nonnegative();
const countsSchema = z.object({ captured: count, skipped: count, kept: count.default(0), notHash: count.default(0), deadLettered: count.default(0) });

/** The counts a `backfill` / `delete_missing` / `recapture` call replied (JSON text), checked. */
export function recaptureCountsOf(reply: unknown): RecaptureCounts {
  const text = String(reply);
  const refused = (why: string) => new Error(`the library replied ${JSON.stringify(text.slice(0, 200))}, not the counts of a backfill, delete_missing or recapture call: ${why}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw refused('not JSON');
  }
  const parsed = countsSchema.safeParse(json);
  if (!parsed.success) throw refused(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'reply'}: ${issue.message}`).join('; '));
  return parsed.data;
}
