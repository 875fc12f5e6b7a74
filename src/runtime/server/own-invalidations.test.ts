import { describe, expect, it } from 'vitest';
import { RUNTIME_LEASE_KEY } from '../../shared/keys.js';
import { decodeFrame } from '../resp/decoder.js';
import { encode } from '../resp/encoder.js';
import { array, blob, NULL, type RespValue } from '../resp/types.js';
import { mayNameRuntimeKey, withoutRuntimeKeys } from './own-invalidations.js';

const push = (...value: RespValue[]): RespValue => ({ type: 'push', value });
const keys = (...names: string[]) => array(names.map((name) => blob(name)));
const message = (payload: RespValue) => array([blob('message'), blob('__redis__:invalidate'), payload]);

describe('invalidations without the runtime’s keys', () => {
  it('a RESP3 invalidate push naming only runtime keys is not forwarded; a mixed one loses them', () => {
    expect(withoutRuntimeKeys(push(blob('invalidate'), keys(RUNTIME_LEASE_KEY)))).toBeNull();
    const mixed = push(blob('invalidate'), keys('user:1', RUNTIME_LEASE_KEY, 'user:2'));
    const shown = withoutRuntimeKeys(mixed)!;
    expect(shown).toEqual(push(blob('invalidate'), keys('user:1', 'user:2')));
    expect(encode(shown, 3).toString()).toBe('>2\r\n$10\r\ninvalidate\r\n*2\r\n$6\r\nuser:1\r\n$6\r\nuser:2\r\n');
  });

  it('a RESP2 message on __redis__:invalidate alike, re-encoded as RESP2', () => {
    const raw = encode(message(keys(RUNTIME_LEASE_KEY, 'user:1')), 2);
    expect(mayNameRuntimeKey(raw)).toBe(true);
    const shown = withoutRuntimeKeys(decodeFrame(raw))!;
    expect(encode(shown, 2).toString()).toBe('*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$6\r\nuser:1\r\n');
    expect(withoutRuntimeKeys(message(keys(RUNTIME_LEASE_KEY)))).toBeNull();
  });

  it('leaves alone a flush (null), an invalidation of clients’ keys only, and other messages', () => {
    expect(withoutRuntimeKeys(push(blob('invalidate'), NULL))).toBeUndefined();
    expect(withoutRuntimeKeys(message(NULL))).toBeUndefined();
    expect(withoutRuntimeKeys(push(blob('invalidate'), keys('user:1')))).toBeUndefined();
    expect(withoutRuntimeKeys(array([blob('message'), blob('news'), blob(RUNTIME_LEASE_KEY)]))).toBeUndefined();
    expect(withoutRuntimeKeys(push(blob('message'), blob('other'), keys(RUNTIME_LEASE_KEY)))).toBeUndefined();
    expect(mayNameRuntimeKey(encode(push(blob('invalidate'), keys('user:1')), 3))).toBe(false);
  });
});
