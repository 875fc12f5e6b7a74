import { describe, expect, it } from 'vitest';
import { ConfigError } from '../shared/errors.js';
import { libraryCodeFor } from './library-code.js';

const CODE = '#!js api_version=1.0 name=WriteBehind\n"use strict";\nvar name=1;\n';

describe('libraryCodeFor', () => {
  it('renames the library in the prologue only', () => {
    expect(libraryCodeFor('Shop_1', CODE)).toBe('#!js api_version=1.0 name=Shop_1\n"use strict";\nvar name=1;\n');
  });

  it('finds the name wherever it sits in the prologue', () => {
    expect(libraryCodeFor('B', '#!js name=A api_version=1.0\nx')).toBe('#!js name=B api_version=1.0\nx');
  });

  it('refuses a name RedisGears would refuse, and code without a prologue', () => {
    expect(() => libraryCodeFor('a.b', CODE)).toThrow(ConfigError);
    expect(() => libraryCodeFor('ok', 'var x = 1;\n')).toThrow(/prologue/);
  });

  it('defaults to the built bundle', () => {
    expect(libraryCodeFor('Built').split('\n')[0]).toBe('#!js api_version=1.0 name=Built');
  });
});
