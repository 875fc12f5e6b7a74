import { describe, expect, it } from 'vitest';
import { configEntries, isConfigUnavailable } from './config-command.js';

describe('isConfigUnavailable', () => {
  it('is a renamed-away command or an ACL refusal, not a failure of CONFIG itself', () => {
    expect(isConfigUnavailable("ERR unknown command 'CONFIG', with args beginning with: 'GET' 'notify-keyspace-events' ")).toBe(true);
    expect(isConfigUnavailable("NOPERM this user has no permissions to run the 'config|get' command")).toBe(true);
    expect(isConfigUnavailable("ERR Invalid argument 'x' for CONFIG SET 'notify-keyspace-events'")).toBe(false);
    expect(isConfigUnavailable('LOADING Redis is loading the dataset in memory')).toBe(false);
  });
});

describe('configEntries', () => {
  it('reads the pairs of a RESP2 array and of a RESP3 map', () => {
    const bulk = (value: string) => ({ type: 'blob', value: Buffer.from(value) }) as const;
    expect(configEntries({ type: 'array', value: [bulk('notify-keyspace-events'), bulk('AKm')] })).toEqual(new Map([['notify-keyspace-events', 'AKm']]));
    expect(configEntries({ type: 'map', value: [[bulk('cluster-announce-port'), bulk('7000')]] })).toEqual(new Map([['cluster-announce-port', '7000']]));
  });
});
