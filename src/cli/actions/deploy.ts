/** What `writebehind deploy` runs (../commands/deploy.ts defines it). */
import * as z from 'zod';
import { deployLibrary, type DeployResult } from '../../deploy/deploy.js';
import { loadConfigFile } from '../../shared/config-file.js';
import { ConfigError } from '../../shared/errors.js';
import { redactUrl } from '../../shared/redact-url.js';
import { DEFAULT_CONFIG_PATH, DEFAULT_REDIS_URL } from '../commands/defaults.js';

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
