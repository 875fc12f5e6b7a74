/**
 * Keyspace notification channels (`__keyspace@<db>__:<key>`, the event name as the message) and the patterns the
 * runtime subscribes to: one per watched key prefix, in every database.
 */
import { hasPrefix } from '../../shared/byte-prefix.js';

const CHANNEL_START = Buffer.from('__keyspace@');
const PATTERN_START = Buffer.from('__keyspace@*__:');
const STAR = Buffer.from('*');
const UNDERSCORE = 0x5f;
const COLON = 0x3a;
/** The bytes redis-server's glob (stringmatchlen) gives a meaning to. */
const GLOB_SPECIAL = new Set([...'*?[]\\'].map((c) => c.charCodeAt(0)));
const BACKSLASH = 0x5c;

/** `__keyspace@*__:<prefix>*`, the prefix's glob characters escaped so that they match only themselves. */
export function keyspacePattern(prefix: Buffer): Buffer {
  const escaped: number[] = [];
  for (const byte of prefix) {
    if (GLOB_SPECIAL.has(byte)) escaped.push(BACKSLASH);
    escaped.push(byte);
  }
  return Buffer.concat([PATTERN_START, Buffer.from(escaped), STAR]);
}

/**
 * The prefixes to subscribe to so that each key is matched by at most one: one that starts with another is
 * covered by it. (A key matched by two patterns would be delivered twice.)
 */
export function coveringPrefixes(prefixes: readonly Buffer[]): Buffer[] {
  const sorted = [...prefixes].sort((a, b) => a.length - b.length);
  const kept: Buffer[] = [];
  for (const prefix of sorted) if (!kept.some((shorter) => hasPrefix(prefix, shorter))) kept.push(prefix);
  return kept;
}

/** The database and key a keyspace channel names (the key a view of `channel`), or null for another channel. */
export function keyspaceChannelKey(channel: Buffer): { db: number; key: Buffer } | null {
  if (channel.length < CHANNEL_START.length + 4 || channel.compare(CHANNEL_START, 0, CHANNEL_START.length, 0, CHANNEL_START.length) !== 0) return null;
  let db = 0;
  let i = CHANNEL_START.length;
  for (; i < channel.length; i++) {
    const digit = channel[i]! - 0x30;
    if (digit < 0 || digit > 9) break;
    db = db * 10 + digit;
  }
  if (i === CHANNEL_START.length || channel[i] !== UNDERSCORE || channel[i + 1] !== UNDERSCORE || channel[i + 2] !== COLON) return null;
  return { db, key: channel.subarray(i + 3) };
}
