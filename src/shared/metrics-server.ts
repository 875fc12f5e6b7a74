/**
 * GET /metrics over node:http for a Prometheus scraper; anything else is a 404. It listens on loopback unless
 * told otherwise (the metrics name tables, writers and the runtime's load: not for every network the host is on).
 */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export const DEFAULT_METRICS_HOST = '127.0.0.1';

export interface MetricsServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `registries` as one exposition (`writebehind start`: the worker's and the runtime's, whose metric names
 * differ), each read at every scrape: a registry may gain metrics after the server starts (the worker's gauges do).
 */
export async function startMetricsServer(registries: readonly Registry[], port: number, host = DEFAULT_METRICS_HOST): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    Promise.all(registries.map((registry) => registry.metrics())).then(
      (texts) => response.writeHead(200, { 'content-type': registries[0]!.contentType }).end(texts.join('\n')),
      (error: unknown) => response.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    host,
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
