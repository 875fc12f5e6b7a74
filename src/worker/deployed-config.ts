/**
 * The worker's config against the one the library was deployed with. The library keeps the JSON it was loaded
 * with (`TFUNCTION LOAD … CONFIG <json>`) and `TFUNCTION LIST LIBRARY <name>` shows it as `configuration`, on
 * Redis Stack and on the local runtime alike: one read, no key of ours, at start-up and again while the worker
 * runs (deployed-config-watch.ts: a redeploy under it). A worker whose config names
 * a writer the library lacks would call `cut`/`ready` for a stream the library does not know and retry for ever;
 * one whose writer the library captures differently (another prefix, table, key, mappings, partitions or
 * onExpire) would read records of another shape, or logs nobody writes, or miss the ones the library does. Both
 * are refused at start-up (exit 2), naming the field; a running worker stops the writer. Compared are only what decides the capture and where it
 * goes; the worker's own settings (`exactlyOnceTable`) and the library's (`batch`, `deadLetterMaxLen`) may
 * differ (../shared/capture-config.ts says what counts). Column names ignore case, as in MySQL.
 *
 * On a cluster a deploy loads the library primary by primary, so for a moment the primaries show different
 * configs: a deploy under way, which is judged only once every primary shows the same one (listingsDisagree),
 * or once they have disagreed for DEPLOY_SETTLE_MS (a deploy left half done is judged as it stands).
 */
import { capturedFields } from '../shared/capture-config.js';
import { parseConfig, type WriteBehindConfig } from '../shared/config.js';
import { listedLibrary } from './capture-failures.js';

/**
 * The config the library of a `TFUNCTION LIST LIBRARY <name> v` reply was loaded with, parsed; null when the
 * reply shows none, or one this worker's schema cannot read (a library of another version: not judged).
 */
export function deployedConfigOf(reply: unknown): WriteBehindConfig | null {
  const text = listedLibrary(reply)?.['configuration'];
  if (typeof text !== 'string') return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const result = parseConfig(json);
  return result.ok ? result.config : null;
}

/**
 * Each way the worker's config differs from the deployed one, as `<path in the worker's config>: <what>`: a
 * writer the library lacks, or a field of a writer the library captures otherwise. Empty when they agree.
 */
export function deployedConfigMismatches(worker: WriteBehindConfig, deployed: WriteBehindConfig): string[] {
  return [...writerMismatches(worker, deployed).values()].flat();
}

/** The same, by writer of the worker's config: only the writers that differ. */
export function writerMismatches(worker: WriteBehindConfig, deployed: WriteBehindConfig): Map<string, string[]> {
  const byWriter = new Map<string, string[]>();
  worker.writers.forEach((writer, i) => {
    const theirs = deployed.writers.find((w) => w.name === writer.name);
    const problems: string[] = [];
    if (theirs === undefined) {
      problems.push(`writers[${i}].name: writer '${writer.name}' is not in the deployed library '${deployed.name}' (it has ${deployed.writers.map((w) => w.name).join(', ')})`);
    } else {
      const deployedFields = new Map(capturedFields(theirs));
      for (const [field, ours] of capturedFields(writer)) {
        const deployedValue = deployedFields.get(field);
        if (ours !== deployedValue) problems.push(`writers[${i}].${field}: writer '${writer.name}' has ${ours} here, ${deployedValue} in the deployed library`);
      }
    }
    if (problems.length > 0) byWriter.set(writer.name, problems);
  });
  return byWriter;
}

/**
 * Each writer of `worker` that some node's deployed library captures otherwise, from each node's `TFUNCTION LIST
 * LIBRARY` reply (one Redis, or every primary of a cluster), with every node's problems; a reply that shows no
 * config this worker can read (none, or another library version's) is not judged, as at start-up.
 */
export function listedMismatches(worker: WriteBehindConfig, replies: readonly unknown[]): Map<string, string[]> {
  const byWriter = new Map<string, string[]>();
  for (const reply of replies) {
    const deployed = deployedConfigOf(reply);
    if (deployed === null) continue;
    for (const [writer, problems] of writerMismatches(worker, deployed)) byWriter.set(writer, [...new Set([...(byWriter.get(writer) ?? []), ...problems])]);
  }
  return byWriter;
}

/**
 * How long the primaries of a cluster may show configs that capture differently before the worker judges them
 * as they are: a deploy reaches every primary within the runtime's 10 s wait for its peers (RedisGears loads
 * them at once), so longer than that is a deploy left half done, not one under way.
 */
export const DEPLOY_SETTLE_MS = 30_000;

/**
 * Whether the nodes' `TFUNCTION LIST LIBRARY` replies show configs that capture some writer differently from
 * one another (a deploy reaching the primaries one by one); replies without a config this worker can read are
 * left out, as everywhere here.
 */
export function listingsDisagree(replies: readonly unknown[]): boolean {
  const captures = new Set<string>();
  for (const reply of replies) {
    const deployed = deployedConfigOf(reply);
    if (deployed === null) continue;
    captures.add(JSON.stringify(deployed.writers.map((w) => [w.name, capturedFields(w)]).sort(([a], [b]) => (String(a) < String(b) ? -1 : 1))));
  }
  return captures.size > 1;
}
