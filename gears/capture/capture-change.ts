/**
 * The capture step of one keyspace event: read the key's state, honour the `#` flag, and append the row image
 * (or a delete) to the writer's capture stream, in the same execution unit as the write.
 *
 * Input problems become dead letters and the callback returns normally; only bugs throw (and show in
 * TFUNCTION LIST `last_error`).
 */
import { decodeUtf8, toHex } from '../bytes.js';
import { DEFAULT_DIRECTIVE, flagDeletesKey, flagReplicates, parseFlag, type FlagDirective } from '../flags.js';
import type { WriterContext } from '../writer-context.js';
import { acknowledgeDone } from './ack.js';
import { recordDivergence } from './divergence.js';
import { deleteRecord, upsertRecord, type RecordArgs } from './capture-record.js';
import type { DatabaseCheck } from './database.js';
import { deadLetterCapture } from './dead-letter.js';
import { FLAG_FIELD, readHashState } from './hash-state.js';
import { parsePrimaryKey } from './primary-key.js';

/**
 * Events that change nothing a row mirrors: a read of a missing key, a TTL being set (the expiry itself comes
 * as `expired`), and the creation of an empty key that a write event always follows.
 */
const IGNORED_EVENTS: ReadonlySet<string> = new Set(['keymiss', 'expire', 'new']);

/** Events that remove a key without anyone asking for it; a writer may keep the row (`onExpire: keep`). */
const EXPIRY_EVENTS: ReadonlySet<string> = new Set(['expired', 'evicted']);

/**
 * `database` is asked before every write but the capture record's own append (see database.ts): a change in
 * another database is left as it is.
 */
export function captureChange(client: GearsClient, writer: WriterContext, event: GearsKeySpaceEvent, database: DatabaseCheck): void {
  if (IGNORED_EVENTS.has(event.event)) return;
  const key = event.key;
  if (key === null) {
    captureBinaryKey(client, writer, event, database);
    return;
  }
  const fail = (reason: string, ack: string | null) => {
    database.confirm();
    deadLetterCapture(client, writer, { reason, event: event.event, key, ack });
  };

  const state = readHashState(client, key, writer.mappedFields);
  switch (state.kind) {
    case 'not-hash':
      fail(`key ${key} holds a ${state.type} value, not a hash`, null);
      return;
    case 'gone':
      if (EXPIRY_EVENTS.has(event.event) && writer.onExpire === 'keep') return;
      appendRecord(client, writer, event.event, key, null, (header) => deleteRecord(writer, header), database);
      return;
    case 'hash':
      break;
  }

  const directive = state.flag === null ? DEFAULT_DIRECTIVE : decodeDirective(state.flag);
  if (state.flag !== null) database.confirm();
  // Only `+` and `-` pay for the record (one HSET); `=` and `~` writes make no extra call. A `+` on a hash whose
  // only field was `#` leaves no key (HDEL removes it): nothing to keep. The record comes before anything else
  // changes: on a cluster it can be refused (a slot's first record, on the source of a MIGRATING slot, answers
  // ASK), and the write is then left as it came, `#` and all, for the slot's re-capture to apply
  // (functions/recapture.ts) instead of a `+`/`-` done with no record, which the re-capture would undo.
  if (directive.ok && !flagReplicates(directive.flag) && (directive.flag === '-' || !state.onlyFlag)) recordDivergence(client, writer, key, directive.flag, state.fields);
  if (state.flag !== null) client.call('HDEL', key, FLAG_FIELD);
  if (!directive.ok) {
    fail(directive.reason, directive.uuid);
    return;
  }
  const { flag, uuid } = directive;
  if (flagDeletesKey(flag)) client.call('DEL', key);
  if (!flagReplicates(flag)) {
    if (uuid !== null) acknowledgeDone(client, key, uuid);
    return;
  }
  // `~` deletes the row; so does `=` on a hash whose only field was `#` (HDEL removed the key).
  const deletes = flag === '~' || state.onlyFlag;
  appendRecord(client, writer, event.event, key, uuid, (header) => (deletes ? deleteRecord(writer, header) : upsertRecord(writer, header, state.fields)), database);
}

/**
 * A key that is not UTF-8 cannot have a row (records and the worker take keys as text), but the `#` flag still
 * holds as far as it needs no row, as the seed promises for every hash: `#` is removed, `-` deletes the hash,
 * `+` keeps it, and both are acknowledged. A change to replicate is dead-lettered, and its acknowledgement says
 * `status failed`, so a client waiting on `{<key>}<uuid>` learns why instead of timing out.
 */
function captureBinaryKey(client: GearsClient, writer: WriterContext, event: GearsKeySpaceEvent, database: DatabaseCheck): void {
  const rawKey = event.key_raw;
  const hex = toHex(rawKey);
  let flagValue: GearsReply = null;
  try {
    flagValue = client.callRaw('HGET', rawKey, FLAG_FIELD);
  } catch (error) {
    // Not a hash (RedisGears throws Redis errors as plain strings): no flag to honour.
    if (!String(error).startsWith('WRONGTYPE')) throw error;
  }
  database.confirm();
  let directive = DEFAULT_DIRECTIVE;
  if (flagValue instanceof ArrayBuffer) {
    client.call('HDEL', rawKey, FLAG_FIELD);
    directive = decodeDirective(flagValue);
  }
  if (directive.ok) {
    if (flagDeletesKey(directive.flag)) client.call('DEL', rawKey);
    if (!flagReplicates(directive.flag)) {
      if (directive.uuid !== null) acknowledgeDone(client, rawKey, directive.uuid);
      return;
    }
  }
  const reason = directive.ok ? `key is not valid UTF-8 (hex ${hex})` : directive.reason;
  deadLetterCapture(client, writer, { reason, event: event.event, key: hex, ack: directive.uuid, rawKey });
}

function decodeDirective(raw: ArrayBuffer): FlagDirective {
  const value = decodeUtf8(raw);
  return value === null ? { ok: false, reason: `'#' value is not valid UTF-8 (hex ${toHex(raw)})`, uuid: null } : parseFlag(value);
}

/**
 * Appends a record once the key's id is known to be valid; otherwise dead-letters the change. Also used by the
 * backfill functions (functions/backfill.ts, which check the database themselves), so a re-captured image is the
 * record a live capture would write.
 */
export function appendRecord(
  client: GearsClient,
  writer: WriterContext,
  event: string,
  key: string,
  ack: string | null,
  build: (header: { key: string; keyValues: readonly (readonly [string, string])[]; ack: string | null }) => RecordArgs,
  database?: DatabaseCheck,
): void {
  const primaryKey = parsePrimaryKey(writer, key);
  if (!primaryKey.ok) {
    database?.confirm();
    deadLetterCapture(client, writer, { reason: primaryKey.reason, event, key, ack });
    return;
  }
  const record = build({ key, keyValues: primaryKey.values, ack });
  // Unconfirmed, the append itself asks: NOMKSTREAM finds the capture stream only where it already exists.
  if (database !== undefined && !database.confirmed && client.call('XADD', writer.keys.changes, 'NOMKSTREAM', '*', ...record) !== null) return;
  database?.confirm();
  client.call('XADD', writer.keys.changes, '*', ...record);
}
