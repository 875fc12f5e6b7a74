/** Joins a test proxy's accepted socket to a new connection to its target, both ways, tracked for closing. */
import { connect, type Socket } from 'node:net';

export function pipeToTarget(inbound: Socket, target: { host: string; port: number }, sockets: Set<Socket>): void {
  const outbound = connect(target.port, target.host);
  for (const socket of [inbound, outbound]) {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => { inbound.destroy(); outbound.destroy(); });
  }
  inbound.pipe(outbound);
  outbound.pipe(inbound);
}
