/**
 * A decoded stream entry (XREADGROUP, XAUTOCLAIM, tests) read as a capture record of either format: one `v2`
 * field is format 2, anything else format 1. The hot path reads XRANGE replies without decoding them first
 * (redis/capture-page.ts).
 */
import { RecordField } from '../shared/protocol.js';
import type { ParsedCaptureEntry } from './capture-record.js';
import { compactDeadLetterEntry, readCompactRecord, SpanArena } from './compact-record.js';
import { readFormatOne } from './format-one-record.js';
import type { StreamEntry } from './redis/stream-entry.js';

/** A decoded stream entry of either format. */
export function parseCaptureEntry(entry: StreamEntry): ParsedCaptureEntry {
  const v2 = entry.fields.filter(([name]) => name === RecordField.v2);
  if (v2.length > 1) return { ok: false, entry, reason: "malformed v2 record: more than one 'v2' field" };
  if (v2.length === 0) {
    const parsed = readFormatOne(entry);
    return typeof parsed === 'string' ? { ok: false, entry, reason: parsed } : { ok: true, record: parsed };
  }
  const value = v2[0]![1];
  const parsed = readCompactRecord(entry.id, value, 0, value.length, new SpanArena());
  if (typeof parsed !== 'string') return { ok: true, record: parsed };
  return { ok: false, entry: compactDeadLetterEntry(entry.id, value, 0, value.length) ?? entry, reason: parsed };
}
