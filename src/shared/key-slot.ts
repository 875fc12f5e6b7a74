/**
 * Redis Cluster's key → slot mapping (CRC16/XMODEM of the key, or of its first non-empty `{hash tag}`, modulo
 * 16384, as the cluster specification defines it) and, for each slot, a short hash tag that lands in it.
 * The runtime uses the tags to name its own store keys on a node's slot; partitioned capture (docs/scale-out.md)
 * will name each partition's keys with its slot's tag. Bundled into the gears library too: no Node APIs.
 */

import { encodeUtf8 } from './utf8.js';
import { SLOT_TAGS } from './slot-tags.js';

export const CLUSTER_SLOTS = 16384;

const CRC_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

/** CRC16/XMODEM (polynomial 0x1021, initial 0), the checksum Redis Cluster uses. */
export function crc16(data: Uint8Array, from = 0, to = data.length): number {
  let crc = 0;
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[((crc >> 8) ^ data[i]!) & 0xff]!;
  return crc;
}

/** The slot of a key given as bytes (a string key is hashed as its UTF-8 bytes). */
export function keySlot(key: Uint8Array | string): number {
  const bytes = typeof key === 'string' ? encodeUtf8(key) : key;
  const open = bytes.indexOf(0x7b); // '{'
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1); // '}'
    if (close > open + 1) return crc16(bytes, open + 1, close) % CLUSTER_SLOTS;
  }
  return crc16(bytes) % CLUSTER_SLOTS;
}

/**
 * A hash tag (the text between `{` and `}`) whose keys land in `slot`: the first of the 1–3 character
 * alphanumeric strings, in a fixed order, that hashes there (slot-tags.ts holds them all).
 */
export function slotTag(slot: number): string {
  if (!Number.isInteger(slot) || slot < 0 || slot >= CLUSTER_SLOTS) throw new RangeError(`slot must be an integer in 0..${CLUSTER_SLOTS - 1}, got ${slot}`);
  const tag = SLOT_TAGS.slice(slot * 3, slot * 3 + 3);
  const padding = tag.indexOf('.');
  return padding < 0 ? tag : tag.slice(0, padding);
}
