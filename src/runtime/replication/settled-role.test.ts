import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/log.js';
import type { RespValue } from '../resp/types.js';
import type { RedisConnection } from '../server/redis-connection.js';
import { settlingOf, untilRoleSettled } from './settled-role.js';

const line = (flags: string, slots: string) => `abc 127.0.0.1:7001@17001 ${flags} - 0 0 2 connected ${slots}`.trim();

describe('settlingOf', () => {
  it('holds back only a primary that serves slots while its cluster state is fail, and a replica', () => {
    expect(settlingOf(line('myself,master', '5461-10922'), 'cluster_state:fail\r\n')).toBe('unsettled primary');
    expect(settlingOf(line('myself,master', '5461-10922'), 'cluster_state:ok\r\n')).toBe('settled');
    expect(settlingOf(line('myself,master', ''), 'cluster_state:fail\r\n')).toBe('settled');
    expect(settlingOf(line('myself,slave', ''), 'cluster_state:ok\r\n')).toBe('replica');
  });
});

/** What the fake node answers: its state is switched by the test's script as the commands arrive. */
interface NodeState {
  nodes: string | 'LOADING';
  info: string | 'LOADING';
  role: 'master' | 'slave';
  linkUp: boolean;
}

const blob = (text: string): RespValue => ({ type: 'blob', value: Buffer.from(text) });
const LOADING: RespValue = { type: 'error', value: 'LOADING Redis is loading the dataset in memory' };
const STALE_PRIMARY = `${line('myself,master', '5461-10922')}\ndef 127.0.0.1:7002@17002 master - 0 0 1 connected 0-5460\n`;
const REPLICA = `${line('myself,slave', '').replace(' - ', ' ghi ')}\nghi 127.0.0.1:7003@17003 master - 0 0 4 connected 5461-10922\n`;

/** A control connection to a fake cluster node; `script` may change the state after each command (its count). */
function fakeNode(state: NodeState, script: (commands: string[]) => void): { control: RedisConnection; commands: string[] } {
  const commands: string[] = [];
  const reply = (args: readonly (string | Buffer)[]): RespValue => {
    const command = args.map(String).join(' ').toUpperCase();
    if (command === 'CLUSTER NODES') return state.nodes === 'LOADING' ? LOADING : blob(state.nodes);
    if (command === 'CLUSTER INFO') return state.info === 'LOADING' ? LOADING : blob(state.info);
    if (command === 'ROLE') return { type: 'array', value: state.role === 'master' ? [blob('master'), { type: 'integer', value: 0n }, { type: 'array', value: [] }] : [blob('slave'), blob('127.0.0.1'), { type: 'integer', value: 7003n }, blob('sync'), { type: 'integer', value: -1n }] };
    if (command === 'INFO REPLICATION') return blob(state.role === 'master' ? 'role:master\r\n' : `role:slave\r\nmaster_link_status:${state.linkUp ? 'up' : 'down'}\r\n`);
    return { type: 'error', value: `ERR unexpected ${command}` };
  };
  const control = {
    send: async (args: readonly (string | Buffer)[]) => {
      const answer = reply(args);
      commands.push(args.map(String).join(' ').toUpperCase());
      script(commands);
      return answer;
    },
  } as unknown as RedisConnection;
  return { control, commands };
}

describe('untilRoleSettled', () => {
  it('waits while the node loads its dataset (a replica loading its first sync refuses CLUSTER NODES with LOADING), then for its link', async () => {
    const state: NodeState = { nodes: 'LOADING', info: 'LOADING', role: 'slave', linkUp: false };
    let loaded = false;
    const { control } = fakeNode(state, (commands) => {
      // The load ends after three looks; the link is up once it has.
      if (commands.filter((c) => c === 'CLUSTER NODES').length === 3 && !loaded) {
        loaded = true;
        Object.assign(state, { nodes: REPLICA, info: 'cluster_state:ok\r\n', linkUp: true });
      }
    });
    await untilRoleSettled(control, silentLogger);
    expect(loaded).toBe(true);
  });

  it('takes a node that turned replica between its CLUSTER NODES and CLUSTER INFO for a replica, and waits for its sync', async () => {
    // The old primary restarted after a failover: CLUSTER NODES still gives it its old slots; before CLUSTER
    // INFO, gossip turns it into the new primary's replica, and a replica's cluster state is ok at once.
    const state: NodeState = { nodes: STALE_PRIMARY, info: 'cluster_state:fail\r\n', role: 'master', linkUp: false };
    let synced = false;
    let infos = 0;
    const { control } = fakeNode(state, (commands) => {
      const last = commands[commands.length - 1];
      if (last === 'CLUSTER NODES' && state.role === 'master') Object.assign(state, { nodes: REPLICA, info: 'cluster_state:ok\r\n', role: 'slave' });
      if (last === 'INFO REPLICATION' && ++infos === 2) {
        synced = true;
        state.linkUp = true;
      }
    });
    await untilRoleSettled(control, silentLogger);
    expect(synced).toBe(true);
  });
});
