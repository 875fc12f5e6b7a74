/** The runtime's TCP listener: one ClientConnection per accepted socket. */
import { createServer, type Server, type Socket } from 'node:net';
import { ClientConnection, type ClientConnectionDeps } from './client-connection.js';

export class RespServer {
  readonly #server: Server;
  readonly #clients = new Set<ClientConnection>();

  private constructor(server: Server) {
    this.#server = server;
  }

  static listen(deps: ClientConnectionDeps, port: number, host: string): Promise<RespServer> {
    return new Promise((resolve, reject) => {
      let respServer: RespServer;
      const server = createServer((socket: Socket) => {
        const client = new ClientConnection(socket, deps);
        respServer.#clients.add(client);
        socket.once('close', () => respServer.#clients.delete(client));
      });
      respServer = new RespServer(server);
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(respServer);
      });
    });
  }

  /** The port actually bound (useful with port 0). */
  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** Stops accepting, closes every client (and its upstream connection), resolves once the listener is closed. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      for (const client of this.#clients) client.shutdown();
      this.#clients.clear();
    });
  }
}
