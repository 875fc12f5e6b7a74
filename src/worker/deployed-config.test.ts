import { describe, expect, it } from 'vitest';
import { parseConfig, type WriteBehindConfig } from '../shared/config.js';
import { captureStamp } from '../shared/capture-config.js';
import { deployedConfigMismatches, deployedConfigOf, writerMismatches } from './deployed-config.js';

const persons = { name: 'P', keysPrefix: 'person', table: 'persons', primaryKey: 'person_id', mappings: { first_name: 'first', age: 'age' } };
const cars = { name: 'C', keysPrefix: 'car', table: 'cars', primaryKey: 'car_id', mappings: { color: 'color' } };

/** A change of each field that decides the capture. */
const CHANGES: Array<[string, Record<string, unknown>]> = [
  ['keysPrefix', { keysPrefix: 'people' }],
  ['table', { table: 'people' }],
  ['primaryKey', { primaryKey: ['person_id', 'x'] }],
  ['mappings', { mappings: { first_name: 'first' } }],
  ['partitions', { partitions: 4 }],
  ['onExpire', { onExpire: 'keep' }],
];

function config(input: Record<string, unknown>): WriteBehindConfig {
  const result = parseConfig({ name: 'WB', writers: [persons, cars], ...input });
  if (!result.ok) throw new Error(result.message);
  return result.config;
}

describe('the worker config against the deployed one', () => {
  it('agrees with itself, with mappings in another order, columns in another case, and other library or worker settings', () => {
    const deployed = config({ batch: { size: 10, maxDelayMs: 5 }, deadLetterMaxLen: 500 });
    const ours = config({ exactlyOnceTable: 'wb_eo', writers: [{ ...persons, mappings: { age: 'AGE', first_name: 'first' }, onExpire: 'delete' }, cars] });
    expect(deployedConfigMismatches(ours, deployed)).toEqual([]);
    // Writers the library has and the worker does not name are not mismatches (the service warns).
    expect(deployedConfigMismatches(config({ writers: [cars] }), deployed)).toEqual([]);
  });

  it('names a writer the library lacks and each field the library captures otherwise, by its path in the worker config', () => {
    const deployed = config({});
    expect(deployedConfigMismatches(config({ writers: [persons, { ...cars, name: 'Trucks' }] }), deployed)).toEqual([
      "writers[1].name: writer 'Trucks' is not in the deployed library 'WB' (it has P, C)",
    ]);
    for (const [field, change] of CHANGES) {
      const [problem, ...more] = deployedConfigMismatches(config({ writers: [{ ...persons, ...change }, cars] }), deployed);
      expect(more, field).toEqual([]);
      expect(problem, field).toMatch(new RegExp(`^writers\\[0\\]\\.${field}: writer 'P' has .+ here, .+ in the deployed library$`));
    }
  });

  it('names only the writers that differ, by writer', () => {
    const deployed = config({});
    const byWriter = writerMismatches(config({ writers: [persons, { ...cars, table: 'trucks' }] }), deployed);
    expect([...byWriter.keys()]).toEqual(['C']);
    expect(byWriter.get('C')).toEqual([expect.stringMatching(/^writers\[1\]\.table: /)]);
  });

  it('stamps a writer (the library\'s batch descriptors) alike where the comparison agrees, otherwise for each field that decides the capture', () => {
    const stamp = (c: WriteBehindConfig) => captureStamp(c.writers[0]!);
    const deployed = stamp(config({}));
    expect(deployed).toMatch(/^[0-9a-f]{14}$/);
    expect(stamp(config({ batch: { size: 10, maxDelayMs: 5 }, exactlyOnceTable: 'wb_eo', writers: [{ ...persons, mappings: { age: 'AGE', first_name: 'first' } }, cars] }))).toBe(deployed);
    for (const [field, change] of CHANGES) expect(stamp(config({ writers: [{ ...persons, ...change }, cars] })), field).not.toBe(deployed);
    expect(stamp(config({ writers: [{ ...persons, name: 'Q' }, cars] })), 'name').not.toBe(deployed);
  });

  it('reads the configuration of a TFUNCTION LIST reply (RESP2 pairs or a map); none or one it cannot parse is null', () => {
    const json = JSON.stringify({ name: 'WB', writers: [persons] });
    expect(deployedConfigOf([['name', 'WB', 'configuration', json]])?.writers[0]!.name).toBe('P');
    expect(deployedConfigOf([new Map([['configuration', json]])])?.name).toBe('WB');
    expect(deployedConfigOf([])).toBeNull();
    expect(deployedConfigOf([['configuration', null]])).toBeNull();
    expect(deployedConfigOf([['configuration', '{"name":"WB","writers":[],"future":1}']])).toBeNull();
  });
});
