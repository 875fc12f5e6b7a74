/**
 * The resume point of a scan over every primary of a Redis Cluster, which backfill and verify scan at once: each
 * primary's own SCAN cursor, `<host:port>/<cursor>` joined with commas, `-` for a primary whose scan is done.
 * `0` is a scan not started (every primary at 0), and also a scan done (every primary done).
 *
 * A primary the stored point does not name (promoted since, or a point stored by the version that scanned one
 * primary after another, `<host:port>/<cursor>` alone) is scanned from its start: a replica's SCAN cursors are
 * not its old primary's, and scanning keys again only captures images that are current anyway. A named node
 * that is no longer a primary is dropped.
 */

/** A primary whose scan is done. */
export const SCAN_DONE = '-';

/** The SCAN cursor of each of `primaries` from a stored point. */
export function parseClusterCursor(cursor: string, primaries: readonly string[]): Map<string, string> {
  const stored = new Map<string, string>();
  if (cursor !== '0') {
    for (const entry of cursor.split(',')) {
      const at = entry.lastIndexOf('/');
      if (at > 0) stored.set(entry.slice(0, at), entry.slice(at + 1));
    }
  }
  return new Map(primaries.map((node) => [node, stored.get(node) ?? '0']));
}

/** The point to store: `0` once every primary is done. */
export function formatClusterCursor(positions: ReadonlyMap<string, string>): string {
  if ([...positions.values()].every((cursor) => cursor === SCAN_DONE)) return '0';
  return [...positions].map(([node, cursor]) => `${node}/${cursor}`).join(',');
}

/** The keys of each primary's step taken in turn, so that a page of them goes to every shard at once. */
export function interleave(lists: readonly (readonly string[])[]): string[] {
  const out: string[] = [];
  const longest = Math.max(0, ...lists.map((list) => list.length));
  for (let i = 0; i < longest; i++) for (const list of lists) if (i < list.length) out.push(list[i]!);
  return out;
}
