/** The option schemas of the worker's commands: defaults from the environment, and messages naming the flag. */
import { afterEach, describe, expect, it } from 'vitest';
import { workerOptionsSchema } from '../../src/cli/actions/worker.js';
import { dlqOptionsSchema } from '../../src/cli/actions/dlq.js';
import { startOptionsSchema } from '../../src/cli/actions/start.js';
import { parseOptions } from '../../src/cli/preflights/parse-options.js';
import { ConfigError } from '../../src/shared/errors.js';

const saved = { REDIS_URL: process.env['REDIS_URL'], MYSQL_URL: process.env['MYSQL_URL'] };
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
});

describe('worker command options', () => {
  it('defaults to the runtime port and the local MySQL, or REDIS_URL / MYSQL_URL', () => {
    delete process.env['REDIS_URL'];
    delete process.env['MYSQL_URL'];
    expect(parseOptions('worker', workerOptionsSchema, {})).toEqual({ redis: 'redis://127.0.0.1:6380', mysql: 'mysql://root@127.0.0.1:3306/test', config: 'config/example.json', metricsHost: '127.0.0.1' });
    process.env['REDIS_URL'] = 'redis://r:1';
    process.env['MYSQL_URL'] = 'mysql://u:secret@m:2/db';
    expect(parseOptions('worker', workerOptionsSchema, { metricsPort: '9100' })).toMatchObject({ redis: 'redis://r:1', mysql: 'mysql://u:secret@m:2/db', metricsPort: 9100 });
  });

  it('names the flag in every rejection', () => {
    const error = (() => { try { parseOptions('worker', workerOptionsSchema, { redis: 'http://x', metricsPort: '70000', consumer: 'a b' }); } catch (e) { return e; } return undefined; })();
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('--redis: must be a redis://');
    expect(message).toContain('--metrics-port:');
    expect(message).toContain('--consumer:');
    expect(() => parseOptions('dlq', dlqOptionsSchema, { action: 'list', writer: 'no-dash!' })).toThrow('--writer: must be a writer name');
    expect(() => parseOptions('dlq', dlqOptionsSchema, { action: 'explode', writer: 'W' })).toThrow('--action');
    expect(parseOptions('start', startOptionsSchema, {})).toMatchObject({ redis: expect.stringMatching(/^redis:\/\//), port: 6380 });
    expect(parseOptions('worker', workerOptionsSchema, { waitReplicas: '1', waitReplicasTimeout: '500' })).toMatchObject({ waitReplicas: 1, waitReplicasTimeout: 500 });
    expect(() => parseOptions('worker', workerOptionsSchema, { waitReplicas: '-1' })).toThrow('--wait-replicas:');
    expect(() => parseOptions('worker', workerOptionsSchema, { waitReplicasTimeout: '0' })).toThrow('--wait-replicas-timeout:');
  });

  it('refuses a URL that does not parse, without echoing its password', () => {
    for (const [flag, url] of [['mysql', 'mysql://u:Sec%ret@h:1/db'], ['mysql', 'mysql://u:Sec/ret@h:1/db'], ['redis', 'redis://u:Sec%ret@h:1']] as const) {
      const error = (() => { try { parseOptions('worker', workerOptionsSchema, { [flag]: url }); } catch (e) { return e as Error; } return undefined; })();
      expect(error, url).toBeInstanceOf(ConfigError);
      expect(error!.message).toContain(`--${flag}: must be a ${flag}://`);
      expect(error!.message).not.toContain('Sec');
    }
  });
});
