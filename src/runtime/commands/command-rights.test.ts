import { describe, expect, it } from 'vitest';
import { requiredRights } from './command-rights.js';

const args = (...values: string[]): Buffer[] => values.map((value) => Buffer.from(value));

describe('requiredRights', () => {
  it('asks FUNCTION LOAD rights for TFUNCTION LOAD', () => {
    expect(requiredRights('TFUNCTION', args('LOAD', 'code'))?.argv).toEqual(['FUNCTION', 'LOAD', 'x']);
  });

  it("asks FUNCTION LOAD / DELETE rights for a peer runtime's _rg_internals.function, not FCALL's", () => {
    expect(requiredRights('_RG_INTERNALS.FUNCTION', args('LOAD', 'code'))?.argv).toEqual(['FUNCTION', 'LOAD', 'x']);
    expect(requiredRights('_RG_INTERNALS.FUNCTION', args('DELETE', 'lib'))?.argv).toEqual(['FUNCTION', 'DELETE', 'x']);
  });

  it('asks FCALL rights with the same keys for TFCALL', () => {
    expect(requiredRights('TFCALL', args('lib.fn', '1', 'person:1', 'arg'))?.argv).toEqual(['FCALL', 'x', '1', Buffer.from('person:1')]);
  });
});
