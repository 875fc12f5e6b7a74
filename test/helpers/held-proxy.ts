/**
 * A TCP proxy whose connections wait: each is accepted at once but reaches its target only after release().
 * Holds a process at the first network step of its start-up for as long as a test needs.
 */
import { createServer, type Socket } from 'node:net';
import { pipeToTarget } from './tcp-pipe.js';

export interface HeldProxy {
  readonly url: string;
  /** Resolves once a client has connected (and is being held). */
  readonly connected: Promise<void>;
  /** Connects every held connection, and every later one at once, to the target. */
  release(): void;
  close(): Promise<void>;
}

export async function startHeldProxy(target: { host: string; port: number }): Promise<HeldProxy> {
  const sockets = new Set<Socket>();
  const held: Socket[] = [];
  let released = false;
  let onConnected!: () => void;
  const connected = new Promise<void>((resolve) => (onConnected = resolve));
  const pipe = (inbound: Socket) => pipeToTarget(inbound, target, sockets);
  const server = createServer((inbound) => {
    onConnected();
    if (released) pipe(inbound);
    else {
      inbound.pause();
      held.push(inbound);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    connected,
    release() {
      released = true;
      for (const inbound of held.splice(0)) {
        pipe(inbound);
        inbound.resume();
      }
    },
    async close() {
      for (const socket of [...sockets, ...held]) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
