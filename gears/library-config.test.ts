import { describe, expect, it } from 'vitest';
import { loadLibraryConfig } from './library-config.js';

describe('loadLibraryConfig', () => {
  it('fills the defaults of a valid document', () => {
    const config = loadLibraryConfig({ name: 'lib', writers: [{ name: 'P', keysPrefix: 'person', table: 'persons', primaryKey: 'person_id', mappings: { a: 'a' } }] });
    expect(config.batch).toEqual({ size: 1000, maxDelayMs: 100 });
    expect(config.deadLetterMaxLen).toBe(100_000);
  });

  it('throws the message as a plain string (RedisGears shows it after "Failed loading library: ")', () => {
    expect.assertions(3);
    expect(() => loadLibraryConfig({})).toThrow(/^invalid write-behind config: name: /);
    try {
      loadLibraryConfig({ name: 'lib', writers: [] });
    } catch (error) {
      expect(typeof error).toBe('string');
      expect(error).toContain('writers');
    }
  });
});
