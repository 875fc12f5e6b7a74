/**
 * Redis Cluster's key → slot mapping (CRC16/XMODEM of the key, or of its first non-empty `{hash tag}`, modulo
 * 16384, as the cluster specification defines it) and, for each slot, a short hash tag that lands in it.
 * The runtime uses the tags to name its own store keys on a node's slot; partitioned capture (docs/scale-out.md)
 * will name each partition's keys with its slot's tag. Bundled into the gears library too: no Node APIs.
 */

import { encodeUtf8 } from './utf8.js';

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

const TAG_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
let slotTags: string[] | undefined;

/**
 * A hash tag (the text between `{` and `}`) whose keys land in `slot`: the first of the 1–3 character
 * alphanumeric strings, in a fixed order, that hashes there. The same table everywhere, built on first use
 * (about 240k CRC16s of up to 3 bytes).
 */
export function slotTag(slot: number): string {
  if (!Number.isInteger(slot) || slot < 0 || slot >= CLUSTER_SLOTS) throw new RangeError(`slot must be an integer in 0..${CLUSTER_SLOTS - 1}, got ${slot}`);
  slotTags ??= buildSlotTags();
  return slotTags[slot]!;
}

function buildSlotTags(): string[] {
  const tags: (string | undefined)[] = new Array<string | undefined>(CLUSTER_SLOTS);
  let missing = CLUSTER_SLOTS;
  const n = TAG_ALPHABET.length;
  const bytes = new Uint8Array(3);
  for (let length = 1; length <= 3 && missing > 0; length++) {
    for (let index = 0; index < n ** length && missing > 0; index++) {
      let rest = index;
      let tag = '';
      for (let position = length - 1; position >= 0; position--) {
        const char = TAG_ALPHABET[rest % n]!;
        bytes[position] = char.charCodeAt(0);
        tag = char + tag;
        rest = Math.floor(rest / n);
      }
      const slot = crc16(bytes, 0, length) % CLUSTER_SLOTS;
      if (tags[slot] === undefined) {
        tags[slot] = tag;
        missing -= 1;
      }
    }
  }
  if (missing > 0) throw new Error(`internal: ${missing} cluster slots have no tag of up to 3 characters`);
  return tags as string[];
}
