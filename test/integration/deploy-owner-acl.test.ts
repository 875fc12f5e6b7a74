/**
 * `writebehind deploy` as an ACL user, run as the user runs it against the runtime. RedisGears runs a library's
 * triggers as the user who loaded it, so a deployer who may touch the mapped hashes but not the library's own
 * keys (`wb:*`) nor the acknowledgement streams loaded a library whose every capture failed with NOPERM, and
 * deploy said "deployed" (exit 0). It is refused before the load now, naming the user and the keys, and the
 * library loaded before goes on capturing; a deployer with the rights deploys, and one who may not run
 * ACL DRYRUN is not judged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writerKeys } from '../../src/shared/keys.js';
import { runCli } from '../helpers/cli.js';
import { startPipeline, type Pipeline } from './pipeline-helpers.js';

let p: Pipeline;

beforeAll(async () => {
  p = await startPipeline('deployacl');
  await p.client.sendCommand(['ACL', 'SETUSER', 'narrow', 'on', '>narrowpw', '~person:*', '~car:*', '+@all']);
  await p.client.sendCommand(['ACL', 'SETUSER', 'wide', 'on', '>widepw', '~*', '+@all']);
  await p.client.sendCommand(['ACL', 'SETUSER', 'noacl', 'on', '>noaclpw', '~*', '+@all', '-acl']);
});

afterAll(async () => {
  await p?.close();
});

const deployAs = (user: string, password: string) => {
  const url = new URL(p.runtime.url);
  url.username = user;
  url.password = password;
  return runCli(['deploy', '--redis', url.toString(), '--config', p.configFile]);
};

describe('writebehind deploy by an ACL user', () => {
  it("a user who may not write the library's keys: refused before the load (exit 1, naming user and keys); the library loaded before still captures", async () => {
    const result = await deployAs('narrow', 'narrowpw');
    expect(result.stderr).toContain("user 'narrow' may not XADD wb:changes:{PersonsWriteBehind}");
    expect(result.stderr).toContain("user 'narrow' may not XADD {person:1}00000000-0000-0000-0000-000000000000");
    expect(result.code, result.stderr).toBe(1);
    await p.client.hSet('person:1', 'first_name', 'Still');
    expect(await p.client.xLen(writerKeys('PersonsWriteBehind').changes)).toBe(1);
  });

  it('a user with the rights deploys; one who may not run ACL DRYRUN is not judged', async () => {
    for (const [user, password] of [['wide', 'widepw'], ['noacl', 'noaclpw']] as const) {
      const result = await deployAs(user, password);
      expect(result.code, result.stderr).toBe(0);
    }
  });
});
