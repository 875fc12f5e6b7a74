/** node-redis clients for tests, connected the way an application connects, closed by the test's teardown. */
import { createClient } from 'redis';

export type TestClient = ReturnType<typeof createClient>;

/** Connects a client to `url` and records it in `clients`, so teardown can close every client a test opened. */
export async function connectTestClient(url: string, clients: Array<{ close(): Promise<unknown> }>): Promise<TestClient> {
  const client = createClient({ url });
  // A runtime or server restart inside a test drops connections on purpose; the test asserts on what follows.
  client.on('error', () => undefined);
  await client.connect();
  clients.push(client);
  return client;
}
