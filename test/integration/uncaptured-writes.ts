/**
 * Writes no capture sees, to stand for data that existed before the library (or a capture that was lost):
 * straight to the redis-server behind the runtime, with its keyspace notifications off meanwhile. The runtime
 * learns of writes it did not serve from those notifications (and captures them in the background); Redis
 * Stack captures inside the command, so there the direct write alone would not do. The runtime checks its flags
 * every second and, finding them off, sets them back and counts an unclean stop (server/settings-check.ts): a
 * test using this starts its runtime with that check off (`settingsCheckMs: 0`), or its writes would be captured
 * after all and repaired.
 */
import type { TestClient } from '../helpers/redis-client.js';

export async function withoutCapture<T>(direct: TestClient, write: () => Promise<T>): Promise<T> {
  const reply = (await direct.sendCommand(['CONFIG', 'GET', 'notify-keyspace-events'])) as string[];
  const flags = reply[1] ?? '';
  await direct.sendCommand(['CONFIG', 'SET', 'notify-keyspace-events', '']);
  try {
    return await write();
  } finally {
    await direct.sendCommand(['CONFIG', 'SET', 'notify-keyspace-events', flags]);
  }
}
