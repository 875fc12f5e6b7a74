import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseConfig, primaryKeyColumns } from './config.js';

const example = JSON.parse(readFileSync(new URL('../../config/example.json', import.meta.url), 'utf8'));

describe('parseConfig', () => {
  it('accepts the shipped example and fills the defaults', () => {
    const result = parseConfig(example);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.batch).toEqual({ size: 1000, maxDelayMs: 100 });
    expect(result.config.writers[0]?.onExpire).toBe('delete');
  });

  it('accepts writers[].partitions from 1 to 256, leaves it unset by default, and names a bad one', () => {
    const writer = { name: 'P', keysPrefix: 'p', table: 't', primaryKey: 'id', mappings: { a: 'b' } };
    const ok = parseConfig({ name: 'lib', writers: [{ ...writer, partitions: 256 }] });
    expect(ok.ok && ok.config.writers[0]?.partitions).toBe(256);
    const unset = parseConfig({ name: 'lib', writers: [writer] });
    expect(unset.ok && 'partitions' in unset.config.writers[0]!).toBe(false);
    for (const partitions of [0, 257, 1.5, '4']) {
      const result = parseConfig({ name: 'lib', writers: [{ ...writer, partitions }] });
      expect(result.ok, String(partitions)).toBe(false);
      if (!result.ok) expect(result.message).toContain('writers[0].partitions');
    }
  });

  it('names every offending field', () => {
    const result = parseConfig({ name: 'a.b', writers: [{ name: 'P', keysPrefix: 'p', table: 'x; DROP TABLE y', primaryKey: 'id', mappings: { a: 'b' } }] });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toContain('name: must match');
    expect(result.message).toContain('writers[0].table: must be a SQL table name');
  });

  it('says a missing field is required and what a primaryKey of the wrong type must be', () => {
    const result = parseConfig({ name: 'lib', writers: [{ name: 'P', keysPrefix: 'p', primaryKey: 5, mappings: { a: 'b' } }] });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toBe('invalid write-behind config: writers[0].table: is required; writers[0].primaryKey: must be a column name or an array of 1 to 16 column names');
  });

  it("refuses a keysPrefix whose keys overlap the library's own wb: keys, naming the field", () => {
    const writer = { table: 't', primaryKey: 'id', mappings: { a: 'col' } };
    for (const keysPrefix of ['wb', 'wb:changes', 'wb:meta:x']) {
      const result = parseConfig({ name: 'lib', writers: [{ ...writer, name: 'W', keysPrefix }] });
      expect(result.ok, keysPrefix).toBe(false);
      if (result.ok) continue;
      expect(result.message).toContain(`writers[0].keysPrefix: keys '${keysPrefix}:*' overlap the library's own keys 'wb:*'`);
    }
    for (const keysPrefix of ['wbx', 'w', 'web:changes']) expect(parseConfig({ name: 'lib', writers: [{ ...writer, name: 'W', keysPrefix }] }).ok, keysPrefix).toBe(true);
  });

  it("refuses a keysPrefix ending in ':' (it would capture '<prefix>::<id>', so 'person:' captured nothing of person:<id>), naming the field and the fix", () => {
    const writer = { name: 'W', table: 't', primaryKey: 'id', mappings: { a: 'col' } };
    const result = parseConfig({ name: 'lib', writers: [{ ...writer, keysPrefix: 'person:' }] });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toContain("writers[0].keysPrefix: must not end with ':' (the ':' before the id is added: 'person' captures person:<id>)");
    expect(parseConfig({ name: 'lib', writers: [{ ...writer, keysPrefix: 'app:person' }] }).ok).toBe(true);
  });

  it('rejects overlapping prefixes, duplicate writers and a column mapped twice', () => {
    const writer = { table: 't', primaryKey: 'id', mappings: { a: 'col' } };
    const result = parseConfig({
      name: 'lib',
      writers: [
        { ...writer, name: 'A', keysPrefix: 'user' },
        { ...writer, name: 'A', keysPrefix: 'user:vip' },
        { ...writer, name: 'C', keysPrefix: 'car', mappings: { a: 'col', b: 'col' } },
      ],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toContain("writers[1].name: duplicate writer name 'A'");
    expect(result.message).toContain('writers[1].keysPrefix');
    expect(result.message).toContain('writers[2].mappings.b');
  });

  it('compares column names case-insensitively, as MySQL does', () => {
    const result = parseConfig({
      name: 'lib',
      writers: [
        { name: 'A', keysPrefix: 'a', table: 't', primaryKey: 'id', mappings: { name: 'name', Name: 'NAME' } },
        { name: 'B', keysPrefix: 'b', table: 't', primaryKey: 'id', mappings: { id: 'ID' } },
        { name: 'C', keysPrefix: 'c', table: 't', primaryKey: ['id', 'Id'], mappings: { v: 'v' } },
      ],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toContain("writers[0].mappings.Name: column 'NAME' is mapped twice or is a primary key column");
    expect(result.message).toContain("writers[1].mappings.id: column 'ID' is mapped twice or is a primary key column");
    expect(result.message).toContain('writers[2].primaryKey: primary key columns must be distinct');
  });

  it('accepts a composite primary key', () => {
    const result = parseConfig({ name: 'lib', writers: [{ name: 'O', keysPrefix: 'order', table: 'orders', primaryKey: ['customer_id', 'order_id'], mappings: { total: 'total' } }] });
    expect(result.ok && primaryKeyColumns(result.config.writers[0]!)).toEqual(['customer_id', 'order_id']);
  });
});
