/**
 * The runtime's TCP listener: one ClientConnection per accepted socket. Bound first and served later: the runtime
 * binds its port before it changes anything on redis-server (a port another runtime holds must fail before this
 * one takes that runtime's running mark), and serves clients once it is ready; a socket accepted in between waits,
 * unread, until then.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { ClientConnection, type ClientConnectionDeps } from './client-connection.js';

export class RespServer {
  readonly #server: Server;
  readonly #clients = new Set<ClientConnection>();
  /** Null until serve(): sockets accepted meanwhile wait in #held. */
  #deps: ClientConnectionDeps | null = null;
  readonly #held = new Set<Socket>();
  #closing: Promise<void> | undefined;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Binds the port; clients are served from serve() on. */
  static bind(port: number, host: string): Promise<RespServer> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket: Socket) => respServer.#accept(socket));
      const respServer = new RespServer(server);
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(respServer);
      });
    });
  }

  /** Starts serving clients, those accepted since bind() first. */
  serve(deps: ClientConnectionDeps): void {
    this.#deps = deps;
    const held = [...this.#held];
    this.#held.clear();
    for (const socket of held) if (!socket.destroyed) this.#accept(socket);
  }

  #accept(socket: Socket): void {
    if (this.#closing !== undefined) {
      socket.destroy();
      return;
    }
    if (this.#deps === null) {
      this.#held.add(socket);
      // A held socket has no reader yet: its error must not go unhandled, and a closed one is dropped.
      socket.on('error', () => undefined);
      socket.once('close', () => this.#held.delete(socket));
      return;
    }
    const client = new ClientConnection(socket, this.#deps);
    this.#clients.add(client);
    socket.once('close', () => this.#clients.delete(client));
  }

  /** The bytes every client is owed and has not taken (runtime-metrics.ts). */
  get owedBytes(): number {
    let owed = 0;
    for (const client of this.#clients) owed += client.owedBytes;
    return owed;
  }

  /** The port actually bound (useful with port 0). */
  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** Stops accepting, closes every client (and its upstream connection), resolves once the listener is closed; safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= new Promise((resolve) => {
      this.#server.close(() => resolve());
      for (const client of this.#clients) client.shutdown();
      this.#clients.clear();
      for (const socket of this.#held) socket.destroy();
      this.#held.clear();
    });
    return this.#closing;
  }
}
