import { describe, expect, it } from 'vitest';
import { ConfigError, RedisCommandError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/log.js';
import type { GearsHost } from '../gears-host.js';
import type { RespValue } from '../resp/types.js';
import { ExecutionLock } from '../server/execution-lock.js';
import type { RedisConnection } from '../server/redis-connection.js';
import { ReplicationRole, type RoleChangeTarget } from './replication-role.js';

const blob = (text: string): RespValue => ({ type: 'blob', value: Buffer.from(text) });

/** A server whose ROLE answers `state.role`, and a target that records the host's role changes. */
function fakeServer(state: { role: 'master' | 'slave' }): { control: RedisConnection; target: RoleChangeTarget; hostRoles: boolean[] } {
  const control = {
    send: async () => ({ type: 'array', value: state.role === 'master' ? [blob('master'), { type: 'integer', value: 0n }, { type: 'array', value: [] }] : [blob('slave'), blob('127.0.0.1'), { type: 'integer', value: 7003n }, blob('connected'), { type: 'integer', value: 0n }] }),
  } as unknown as RedisConnection;
  const hostRoles: boolean[] = [];
  const host = { roleChanged: async (primary: boolean) => void hostRoles.push(primary) } as unknown as GearsHost;
  const target: RoleChangeTarget = { lock: new ExecutionLock(), host, collectEvents: async () => [], runHeld: async (work) => work() };
  return { control, target, hostRoles };
}

describe('ReplicationRole with a promotion check', () => {
  it('keeps triggers off on a primary that failed the check, reports it once, and checks again after a demotion', async () => {
    const state: { role: 'master' | 'slave' } = { role: 'slave' };
    const { control, target, hostRoles } = fakeServer(state);
    let runs = 0;
    const failures: unknown[] = [];
    const role = new ReplicationRole(control, target, 'replica', silentLogger, {
      run: async () => {
        runs++;
        throw new ConfigError('notify-keyspace-events is missing: m');
      },
      onFailed: (e) => failures.push(e),
    });
    state.role = 'master';
    await role.confirm();
    expect(role.isPrimary).toBe(false);
    expect(failures).toHaveLength(1);
    // The host keeps its replica state: it was never told of a promotion.
    expect(hostRoles).toEqual([]);
    // Asked again (before each write): still the same primary, not checked again.
    await role.confirm();
    expect(runs).toBe(1);
    state.role = 'slave';
    await role.confirm();
    state.role = 'master';
    await role.confirm();
    expect(runs).toBe(2);
    expect(failures).toHaveLength(2);
  });

  it('retries a check that failed for a passing reason (a timeout) at the next look, then promotes', async () => {
    const state: { role: 'master' | 'slave' } = { role: 'slave' };
    const { control, target, hostRoles } = fakeServer(state);
    const outcomes = [new RedisCommandError('redis-server did not answer the notify-keyspace-events probe within 5000 ms'), null];
    const failures: unknown[] = [];
    const role = new ReplicationRole(control, target, 'replica', silentLogger, {
      run: async () => {
        const outcome = outcomes.shift();
        if (outcome) throw outcome;
      },
      onFailed: (e) => failures.push(e),
    });
    state.role = 'master';
    await expect(role.confirm()).rejects.toThrow(/did not answer/);
    expect(role.isPrimary).toBe(false);
    await role.confirm();
    expect(role.isPrimary).toBe(true);
    expect(failures).toEqual([]);
    expect(hostRoles).toEqual([true]);
  });
});
