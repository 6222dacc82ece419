import { MAX_WINDOW_SECONDS } from './core/fraud-guards.ts';
import type { FastifyInstance } from 'fastify';
import { syncManagementGrants } from './bootstrap.ts';
import { syncDashboardClient } from './dashboard-client.ts';
import { startLogJobs } from './logs/jobs.ts';
import { serveMetrics } from './metrics/http.ts';
import type { Services } from './services.ts';

/**
 * Binds the port, fixes the issuer when it was derived from port 0, and starts the mail worker.
 * Returns the base URL.
 */
export async function listen(app: FastifyInstance, services: Services): Promise<string> {
  const { config } = services;
  await app.listen({ port: config.port, host: config.host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const scheme = config.tlsCert ? 'https' : 'http';
  if (!config.issuerExplicit && port !== config.port) {
    services.issuer = `${scheme}://localhost:${port}/`;
    await syncManagementGrants(services);
    await syncDashboardClient(services);
  }
  services.mail.start();
  if (services.metrics && config.metricsPort !== undefined) {
    const metrics = await serveMetrics(config, services.metrics);
    services.metrics.url = metrics.url;
    app.server.once('close', () => metrics.close());
    app.log.info(`Prometheus metrics at ${metrics.url}`);
  }
  startPurge(services);
  startLogJobs(services);
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return `${scheme}://${host}:${port}`;
}

/**
 * Expired browser sign-in artifacts are useless (every read filters on expiry), and so are window
 * events older than the longest guard window (issue 5 §4): drop them now and then.
 */
const PURGE_EVERY_MS = 10 * 60_000;

function startPurge(s: Services): void {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = Promise.all([
      s.store.purgeArtifacts(s.now()).catch((err: unknown) => s.log.warn({ err }, 'could not purge expired artifacts')),
      s.store.purgeWindows(s.now() - MAX_WINDOW_SECONDS * 1000).catch((err: unknown) => s.log.warn({ err }, 'could not purge window events')),
    ]);
  }, PURGE_EVERY_MS);
  timer.unref();
  s.background.add(async () => {
    clearInterval(timer);
    await running;
  });
}

/**
 * SIGTERM/SIGINT: stop accepting, let in-flight requests finish (Fastify's close drains them), stop
 * the mail worker after its batch, close the database. A second signal exits at once.
 */
export function installSignalHandlers(app: FastifyInstance): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) process.exit(1);
    closing = true;
    app.log.info({ signal }, 'shutting down: draining requests and the mail worker');
    const timer = setTimeout(() => {
      app.log.error('shutdown took longer than 30 s; exiting');
      process.exit(1);
    }, 30_000);
    timer.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
