/**
 * Whether `key` starts with `prefix`, byte for byte. Asked of every key of every captured write several times
 * (routing, keyspace events, trigger and stream matching): a byte loop over a short prefix costs a tenth of
 * `subarray(…).equals(…)`, which allocates a Buffer.
 */
export function hasPrefix(key: Uint8Array, prefix: Uint8Array): boolean {
  const length = prefix.length;
  if (key.length < length) return false;
  for (let i = 0; i < length; i += 1) if (key[i] !== prefix[i]) return false;
  return true;
}
