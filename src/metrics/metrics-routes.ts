import { JsonServer } from '../http/json-server.js';
import type { MetricsRegistry } from './metrics-registry.js';

/** Adds `GET /metrics` (the Prometheus text of `registry`) and `GET /healthz` to a server. */
export function addMetricsRoutes(server: JsonServer, registry: MetricsRegistry): JsonServer {
  return server
    .route('GET', '/healthz', async () => ({ status: 'ok' }))
    .route('GET', '/metrics', async (_req, res) => {
      const { contentType, body } = await registry.text();
      res.writeHead(200, { 'content-type': contentType }).end(body);
    });
}

/**
 * A server of just `/metrics` and `/healthz`, for a process that serves no HTTP API of its own
 * (a FUSE daemon, `metrics.port`). Resolves to its URL and how to close it.
 */
export async function startMetricsServer(registry: MetricsRegistry, port: number, host: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = addMetricsRoutes(new JsonServer({ name: 'metrics' }), registry);
  const url = await server.listen(port, host);
  return { url, close: () => server.close() };
}
