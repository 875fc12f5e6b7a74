/**
 * A decoded stream entry (XREADGROUP, XAUTOCLAIM, tests) read as a capture record of either format: one `v2`
 * field is format 2, anything else format 1. The hot path reads XRANGE replies without decoding them first
 * (redis/capture-page.ts).
 */
import { RecordField } from '../shared/protocol.js';
import type { ParsedCaptureEntry } from './capture-record.js';
import { readCompactRecord, SpanArena } from './compact-record.js';
import { readFormatOne } from './format-one-record.js';
import type { StreamEntry } from './redis/stream-entry.js';

/** A decoded stream entry of either format. */
export function parseCaptureEntry(entry: StreamEntry): ParsedCaptureEntry {
  const v2 = entry.fields.filter(([name]) => name === RecordField.v2);
  if (v2.length > 1) return { ok: false, entry, reason: "malformed v2 record: more than one 'v2' field" };
  const parsed = v2.length === 1 ? readCompactRecord(entry.id, v2[0]![1], 0, v2[0]![1].length, new SpanArena()) : readFormatOne(entry);
  return typeof parsed === 'string' ? { ok: false, entry, reason: parsed } : { ok: true, record: parsed };
}
