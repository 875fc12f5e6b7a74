/**
 * Redis Cluster's key → slot mapping (CRC16-XMODEM of the key, or of its first non-empty `{hash tag}`, modulo
 * 16384), as the cluster specification defines it. Used to check that every key of a writer lands in one slot;
 * nothing at run time depends on it, so it stays out of src/.
 */

export const CLUSTER_SLOTS = 16384;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

/** CRC16/XMODEM (polynomial 0x1021, initial 0), the checksum Redis Cluster uses. */
export function crc16(data: Uint8Array): number {
  let crc = 0;
  for (const byte of data) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc;
}

/** The part of the key that is hashed: the content of the first `{…}` if it is non-empty, else the whole key. */
export function hashedPart(key: Buffer): Buffer {
  const open = key.indexOf(0x7b); // '{'
  if (open < 0) return key;
  const close = key.indexOf(0x7d, open + 1); // '}'
  if (close < 0 || close === open + 1) return key;
  return key.subarray(open + 1, close);
}

export function keySlot(key: string | Buffer): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return crc16(hashedPart(bytes)) % CLUSTER_SLOTS;
}
