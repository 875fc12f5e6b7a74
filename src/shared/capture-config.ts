/**
 * What of a writer's config decides its capture and where its records go: `keysPrefix`, `table`, `primaryKey`,
 * `mappings`, `partitions` and `onExpire`. The worker compares these with the deployed library's at start-up
 * and while it runs (src/worker/deployed-config.ts), and the library stamps every batch descriptor it cuts with
 * their fingerprint (`captureStamp`), so a worker refuses a batch captured under another config exactly, not
 * only once a poll sees the redeploy. One definition for both sides, so they agree on what counts.
 *
 * Bundled into the gears library: keep it free of Node APIs.
 */
import { primaryKeyColumns, type WriterConfig } from './config.js';

/**
 * [field, value as comparable text] of each field that decides the capture. Column names ignore case (as in
 * MySQL) and mappings are compared as a field → column map, whatever their order.
 */
export function capturedFields(writer: WriterConfig): Array<[string, string]> {
  const mappings = Object.entries(writer.mappings)
    .map(([field, column]) => [field, column.toLowerCase()] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [
    ['keysPrefix', JSON.stringify(writer.keysPrefix)],
    ['table', JSON.stringify(writer.table)],
    ['primaryKey', JSON.stringify(primaryKeyColumns(writer).map((c) => c.toLowerCase()))],
    ['mappings', JSON.stringify(Object.fromEntries(mappings))],
    ['partitions', JSON.stringify(writer.partitions ?? 1)],
    ['onExpire', JSON.stringify(writer.onExpire)],
  ];
}

/**
 * A fingerprint of the writer's captured fields (and its name): 14 hex digits of a 53-bit hash (cyrb53) of
 * their text. Cheap enough to carry in every batch descriptor; a collision (1 in ~10^16 per pair of configs)
 * would only let a redeploy through to the periodic check.
 */
export function captureStamp(writer: WriterConfig): string {
  const text = JSON.stringify([writer.name, capturedFields(writer)]);
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}
