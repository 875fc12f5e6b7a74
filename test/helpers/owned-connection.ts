/**
 * A TCP connection whose file descriptor only the test reads and writes (libuv stopped reading it), for the
 * runtime's synchronous socket I/O (src/runtime/sync-redis/).
 */
import { createConnection, type Socket } from 'node:net';
import { socketDescriptor } from '../../src/runtime/sync-redis/socket-reads.js';

export async function ownedConnection(port: number): Promise<{ socket: Socket; fd: number }> {
  const socket = createConnection({ host: '127.0.0.1', port });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  (socket as unknown as { _handle: { readStop(): number } })._handle.readStop();
  return { socket, fd: socketDescriptor(socket) };
}
