import { describe, expect, it } from 'vitest';
import type { GearsHost, KeyspaceEvent } from '../gears-host.js';
import { streamsTouched } from './streams-touched.js';

const host = { matchesStreamTrigger: (key: Buffer) => key.toString().startsWith('s:') } as GearsHost;
const ev = (event: string, key = 's:1', db = 0): KeyspaceEvent => ({ db, event, key: Buffer.from(key) });
const touched = (events: KeyspaceEvent[], settled = true) =>
  streamsTouched(events, host, settled).map(({ key, db, ...rest }) => ({ key: key.toString(), db, ...rest }));
const base = { key: 's:1', db: 0, read: false, forgetBefore: false, forgetAfter: false, replaced: false };

describe('streamsTouched: what RedisGears does per event (lib.rs: on_stream_touched on @STREAM, on_stream_deleted on del)', () => {
  it('stream-class events read; appends are counted, trims and consumer groups add none', () => {
    expect(touched([ev('xadd'), ev('xadd')])).toEqual([{ ...base, read: true, appends: 2 }]);
    expect(touched([ev('xtrim'), ev('xdel'), ev('xsetid'), ev('xgroup-create')])).toEqual([{ ...base, read: true, appends: 0 }]);
    expect(touched([ev('xadd'), ev('xtrim')])).toEqual([{ ...base, read: true, appends: null }]);
    expect(touched([ev('xadd')], false)).toEqual([{ ...base, read: true, appends: null }]);
  });

  it('RESTORE, RENAME, COPY, MOVE, expiry, eviction neither read nor forget: they only unsettle', () => {
    for (const event of ['restore', 'rename_to', 'rename_from', 'copy_to', 'move_to', 'move_from', 'expired', 'evicted', 'expire']) {
      expect(touched([ev(event)])).toEqual([{ ...base, replaced: true, appends: null }]);
    }
    expect(touched([ev('restore'), ev('xadd')])).toEqual([{ ...base, read: true, replaced: true, appends: null }]);
  });

  it('del forgets before the read when a stream event follows it, after it otherwise', () => {
    expect(touched([ev('del')])).toEqual([{ ...base, forgetAfter: true, appends: 0 }]);
    expect(touched([ev('del'), ev('xadd')])).toEqual([{ ...base, read: true, forgetBefore: true, appends: null }]);
    expect(touched([ev('xadd'), ev('del')])).toEqual([{ ...base, read: true, forgetAfter: true, appends: 1 }]);
    expect(touched([ev('del'), ev('xadd'), ev('del')])).toEqual([{ ...base, read: true, forgetBefore: true, forgetAfter: true, appends: null }]);
  });

  it('keymiss and unwatched keys are left out; keys keep their first-seen order per db', () => {
    expect(touched([ev('keymiss'), ev('xadd', 'other:1')])).toEqual([]);
    expect(touched([ev('xadd', 's:2'), ev('xadd', 's:1', 1), ev('xadd', 's:2')]).map((s) => `${s.db}/${s.key}`)).toEqual(['0/s:2', '1/s:1']);
  });
});
