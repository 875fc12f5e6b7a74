/** What `writebehind reshard` runs (../commands/reshard.ts defines it). */
import { loadConfigFile } from '../../shared/config-file.js';
import { ClusterAdmin } from '../../reshard/cluster-admin.js';
import { recaptureTarget } from '../../reshard/recapture-target.js';
import { reshard, type ReshardResult } from '../../reshard/reshard.js';
import { parseOptions } from '../preflights/parse-options.js';
import { reshardOptionsSchema, type ReshardCommandOptions } from '../commands/reshard.js';

export async function runReshard(options: ReshardCommandOptions, print: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<ReshardResult> {
  const parsed = parseOptions('reshard', reshardOptionsSchema, options);
  const target = recaptureTarget(await loadConfigFile(parsed.config));
  const admin = await ClusterAdmin.connect(parsed.redis);
  try {
    return await reshard(admin, target, {
      from: parsed.from,
      to: parsed.to,
      ...(parsed.slots === undefined ? {} : { slots: parsed.slots }),
      ...(parsed.count === undefined ? {} : { count: parsed.count }),
      migrateTimeoutMs: parsed.migrateTimeoutMs,
      print,
    });
  } finally {
    await admin.close();
  }
}
