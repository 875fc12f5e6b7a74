import { describe, expect, it } from 'vitest';
import { parseConfig, type WriteBehindConfig } from '../shared/config.js';
import { createLogger } from '../shared/log.js';
import { DeployedConfigWatch } from './deployed-config-watch.js';
import { listingsDisagree } from './deployed-config.js';
import { LibraryListingPoll } from './library-listing-poll.js';

const persons = { name: 'P', keysPrefix: 'person', table: 'persons', primaryKey: 'person_id', mappings: { first_name: 'first', age: 'age' } };

function config(writer: Record<string, unknown>, extra: Record<string, unknown> = {}): WriteBehindConfig {
  const result = parseConfig({ name: 'WB', writers: [{ ...persons, ...writer }], ...extra });
  if (!result.ok) throw new Error(result.message);
  return result.config;
}

/** A node's `TFUNCTION LIST LIBRARY WB v` reply showing `deployed`. */
const listed = (deployed: WriteBehindConfig) => [['name', 'WB', 'configuration', JSON.stringify(deployed)]];

const ours = config({});
const other = config({ table: 'people' });

/** A watch over primaries whose listings are `nodes` (changed by the test between reads). */
function watchOver(nodes: unknown[][], settleMs: number) {
  const poll = new LibraryListingPoll({ listings: () => nodes.map((_, i) => async () => nodes[i]), library: 'WB', log: createLogger({ name: 'test', level: 'silent' }) });
  return new DeployedConfigWatch(poll, ours, settleMs);
}

describe('the deployed config on a cluster, loaded primary by primary', () => {
  it('primaries disagree only when they capture a writer differently: a batch size, or a node showing no config, is no disagreement', () => {
    expect(listingsDisagree([listed(ours), listed(other)])).toBe(true);
    expect(listingsDisagree([listed(ours), listed(config({}, { batch: { size: 7, maxDelayMs: 3 } }))])).toBe(false);
    expect(listingsDisagree([listed(ours), [], listed(ours)])).toBe(false);
  });

  it('a deploy under way (primaries disagree) is not judged: problemsOf throws to be asked again; once they agree it is judged at once', async () => {
    const nodes = [listed(other), listed(ours), listed(ours)];
    const watch = watchOver(nodes, 60_000);
    await expect(watch.problemsOf('P')).rejects.toThrow(/capture differently on the primaries of the cluster \(a deploy under way\)/);
    nodes[1] = listed(other);
    nodes[2] = listed(other);
    expect((await watch.problemsOf('P')).join()).toContain('writers[0].table');
  });

  it('primaries that disagree for longer than the settle time (a deploy left half done) are judged as they stand', async () => {
    const watch = watchOver([listed(other), listed(ours)], 50);
    await expect(watch.problemsOf('P')).rejects.toThrow(/deploy under way/);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect((await watch.problemsOf('P')).join()).toContain('writers[0].table');
  });
});
