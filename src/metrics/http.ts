import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.ts';
import type { Metrics } from './metrics.ts';

export const METRICS_PATH = '/metrics';

/** Metrics are collected when asked for, on the application's port or on their own. */
export const metricsEnabled = (config: Config) => config.metrics || config.metricsPort !== undefined;

/**
 * Counts every answered request by its route pattern (`/api/v2/clients/:id`, never the raw URL: the
 * label set stays bounded whatever clients send) and status, with its latency. One histogram update
 * per request. Requests no route matched (404s, scans) share one label.
 */
export function installRequestMetrics(app: FastifyInstance, metrics: Metrics): void {
  // Callback style: no promise per request.
  app.addHook('onResponse', (req, reply, done) => {
    metrics.request(req.method, req.routeOptions.url ?? '(unmatched)', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

async function scrape(metrics: Metrics): Promise<{ status: number; type: string; body: string }> {
  try {
    return { status: 200, type: metrics.registry.contentType, body: await metrics.registry.metrics() };
  } catch {
    // The outbox gauges read the database: while it is down, say so instead of half an answer.
    return { status: 503, type: 'text/plain; charset=utf-8', body: 'metrics unavailable: the database did not answer\n' };
  }
}

/** SESAME_METRICS=1 without SESAME_METRICS_PORT: `GET /metrics` on the application's own port. */
export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics): void {
  app.get(METRICS_PATH, async (_req, reply) => {
    const r = await scrape(metrics);
    return reply.code(r.status).header('content-type', r.type).header('cache-control', 'no-store').send(r.body);
  });
}

/**
 * SESAME_METRICS_PORT: a separate listener that answers only `GET /metrics`, bound to
 * SESAME_METRICS_HOST (loopback by default), so that exposing the application never exposes its
 * metrics. Resolves with the base URL; `close` ends it with its keep-alive connections.
 */
export async function serveMetrics(config: Config, metrics: Metrics): Promise<{ url: string; close(): void }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== METRICS_PATH || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not Found\n');
      return;
    }
    void scrape(metrics).then((r) => res.writeHead(r.status, { 'content-type': r.type, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : r.body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.metricsPort, config.metricsHost, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.metricsHost.includes(':') ? `[${config.metricsHost}]` : config.metricsHost;
  return {
    url: `http://${host}:${port}${METRICS_PATH}`,
    close() {
      server.close();
      server.closeAllConnections();
    },
  };
}
