/**
 * `writebehind deploy [--redis URL] [--config FILE]`: loads the library with the configuration into Redis
 * (`TFUNCTION LOAD REPLACE CONFIG`), replacing an older version in place.
 */
import { Command } from 'commander';
import * as z from 'zod';
import { deployLibrary, type DeployResult } from '../../deploy/deploy.js';
import { DEFAULT_CONFIG_PATH, loadConfigFile } from '../../shared/config-file.js';
import { ConfigError } from '../../shared/errors.js';
import { redactUrl } from '../../shared/redact-url.js';

/** The local runtime's port: `writebehind runtime` listens there by default. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6380';

export const deployOptionsSchema = z.object({
  /** Redis (or the local runtime) to load the library into; falls back to REDIS_URL, then the runtime's port. */
  redis: z
    .string()
    .default(() => process.env['REDIS_URL'] ?? DEFAULT_REDIS_URL)
    .refine((url) => /^rediss?:\/\//.test(url), 'must be a redis:// or rediss:// URL'),
  /** The write-behind configuration file. */
  config: z.string().min(1).default(DEFAULT_CONFIG_PATH),
});

export type DeployOptions = z.input<typeof deployOptionsSchema>;

export async function runDeploy(options: DeployOptions, print: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Promise<DeployResult> {
  const parsed = deployOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new ConfigError(`invalid deploy options: ${problems}`);
  }
  const { redis, config: configPath } = parsed.data;
  const config = await loadConfigFile(configPath);
  const deployed = await deployLibrary({ redisUrl: redis, config });
  const where = deployed.shards > 1 ? ` on all ${deployed.shards} shards` : '';
  print(`deployed library ${deployed.name} ${deployed.version} to ${redactUrl(redis)}${where} (config ${configPath}: ${config.writers.map((w) => `${w.keysPrefix}:* → ${w.table}`).join(', ')})`);
  return deployed;
}

export const deployCommand = new Command('deploy')
  .description('load the RedisGears library with the config into Redis (TFUNCTION LOAD REPLACE CONFIG)')
  .option('--redis <url>', `Redis URL (default: $REDIS_URL or ${DEFAULT_REDIS_URL})`)
  .option('--config <file>', 'write-behind config file', DEFAULT_CONFIG_PATH)
  .action(async (options: DeployOptions) => {
    await runDeploy(options);
  });
