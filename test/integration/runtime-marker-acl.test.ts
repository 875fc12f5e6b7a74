/**
 * The runtime's marker PUBLISH behind a client's command leaves no trace in ACL LOG: a user the server would not
 * let publish to the marker channel gets a PING fence on the keyspace subscription instead, so ACL LOG shows only
 * what the server shows. Found by Redis's own Tcl suite (unit/acl, "ACL LOG can distinguish the transaction
 * context": the first entry was the refused marker, `reason channel`, `context toplevel`).
 */
import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { lib, load, useGearsEnv } from './gears-support.js';

const env = useGearsEnv();

describe('marker of a user that may not publish everywhere', () => {
  it('is not refused into ACL LOG, and the triggers of its writes still fire before its reply', async () => {
    await load(env.resp3, lib('seen', `
      redis.registerKeySpaceTrigger('t', 'acl:', (c, d) => { c.call('rpush', 'seen', d.event + ':' + d.key); });`));
    await env.resp3.sendCommand(['ACL', 'SETUSER', 'narrow', 'on', '>pass', '~*', 'resetchannels', '&allowed', '+@all']);
    const narrow = createClient({ url: `redis://narrow:pass@127.0.0.1:${env.runtime.port}`, RESP: 3 });
    await narrow.connect();
    try {
      await env.resp3.sendCommand(['ACL', 'LOG', 'RESET']);
      expect(await narrow.sendCommand(['EVAL', 'return 1', '0'])).toBe(1);
      await narrow.set('acl:1', 'v');
      // Fired before the SET's reply: the list is there when the reply is.
      expect(await narrow.lRange('seen', 0, -1)).toEqual(['set:acl:1']);
      const transaction = await narrow.multi().incr('acl:n').exec();
      expect(transaction).toEqual([1]);
      expect(await narrow.lRange('seen', 0, -1)).toEqual(['set:acl:1', 'incrby:acl:n']);
      expect(await env.resp3.sendCommand(['ACL', 'LOG'])).toEqual([]);
    } finally {
      await narrow.quit();
      await env.resp3.sendCommand(['ACL', 'DELUSER', 'narrow']);
    }
  });

  it('still rides on the connection of a user restricted to some keys but free to publish', async () => {
    await env.resp3.sendCommand(['ACL', 'SETUSER', 'keys', 'on', '>pass', 'resetkeys', '~acl:*', '&*', '+@all']);
    const keys = createClient({ url: `redis://keys:pass@127.0.0.1:${env.runtime.port}`, RESP: 3 });
    await keys.connect();
    const direct = createClient({ url: env.redis.url });
    await direct.connect();
    try {
      expect(await keys.sendCommand(['EVAL', 'return 1', '0'])).toBe(1);
      // The marker went right behind the EVAL, on the client's own connection: its last command there.
      const list = String(await direct.sendCommand(['CLIENT', 'LIST']));
      expect(list.split('\n').find((line) => line.includes(' user=keys '))).toContain(' cmd=publish ');
    } finally {
      await keys.quit();
      await direct.quit();
      await env.resp3.sendCommand(['ACL', 'DELUSER', 'keys']);
    }
  });
});
