/** What `writebehind recapture` runs (../commands/recapture.ts defines it). */
import { loadConfigFile } from '../../shared/config-file.js';
import { ClusterAdmin } from '../../reshard/cluster-admin.js';
import { recaptureSlots, type RecaptureSlotsResult } from '../../reshard/recapture-slots.js';
import { recaptureTarget } from '../../reshard/recapture-target.js';
import { parseOptions } from '../preflights/parse-options.js';
import { recaptureOptionsSchema, type RecaptureCommandOptions } from '../commands/recapture.js';

export async function runRecapture(options: RecaptureCommandOptions, print: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<RecaptureSlotsResult> {
  const parsed = parseOptions('recapture', recaptureOptionsSchema, options);
  const target = recaptureTarget(await loadConfigFile(parsed.config));
  const admin = await ClusterAdmin.connect(parsed.redis);
  try {
    return await recaptureSlots(admin, target, parsed.slots, print);
  } finally {
    await admin.close();
  }
}
