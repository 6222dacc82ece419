import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { destination } from 'pino';
import { Background } from './background.ts';
import type { Config } from './config/schema.ts';
import { fastifyTrustProxy } from './config/trust-proxy.ts';
import { Keyring } from './core/crypto.ts';
import { KeyManager } from './core/keys.ts';
import { installErrorHandler, sendError } from './errors/error-handler.ts';
import { registerAdmin } from './http/admin/index.ts';
import { registerAuthRoutes } from './http/auth/index.ts';
import { registerHome } from './http/home.ts';
import { registerManagementRoutes } from './http/management/index.ts';
import { registerOpenApi } from './http/management/openapi.ts';
import { installNulGuard } from './http/nul.ts';
import { registerPages } from './http/pages/index.ts';
import { checkDevMail } from './mail/dev-mode.ts';
import { createMailDelivery } from './mail/thread.ts';
import { installRequestMetrics, metricsEnabled, registerMetricsRoute } from './metrics/http.ts';
import type { Metrics } from './metrics/metrics.ts';
import { observeStore } from './metrics/observe-store.ts';
import { resolveSecret } from './secret.ts';
import type { Services } from './services.ts';
import { type BootstrapReport, bootstrap } from './bootstrap.ts';
import { idleErrorLogger } from './store/db-errors.ts';
import { openStore } from './store/index.ts';
import { prettyStream } from './logs/pretty.ts';
import { sharedSerializerFactory } from './http/schema-compilers.ts';
import { clientErrorHandler } from './http/client-error.ts';

declare module 'fastify' {
  interface FastifyInstance {
    sesame: Services;
  }
}

export interface BuiltApp {
  app: FastifyInstance;
  services: Services;
  /** What the first start created (secrets are only here, printed once by the CLI). */
  report: BootstrapReport;
  /** The data folder (generated secret, src/local.ts); undefined for an in-memory database. */
  dataDir: string | undefined;
}

// Under load the live heap stays near 20 MB, but V8 lets the old space grow to about four times that
// before a major collection (measured: 98 MB, most of it garbage). Doubling at most keeps the heap,
// and so the RSS, within the benchmark's 200 MB; tighter factors (40–60%) cost p99 latency in
// extra major collections (README, Benchmark).
setFlagsFromString('--heap-growing-percent=100');

/**
 * Paths whose values must never reach a log line (STYLE.md; "secrets and codes never in logs"). The
 * unhandled-error line carries the request (error-handler.ts): its credentials, cookies and body
 * (codes, secrets) are censored here.
 */
const REDACT = [
  'req.headers.authorization', 'req.headers.cookie', 'req.body', 'res.headers["set-cookie"]',
  'request.headers.authorization', 'request.headers.cookie', 'request.query', 'request.body',
];

/** SESAME_LOG_FORMAT, or by default readable lines for a person at a terminal and JSON for anything else. */
const prettyLogs = (config: Config) => config.logFormat === 'pretty' || (config.logFormat === undefined && process.stdout.isTTY === true);

/**
 * JSON lines on stdout, written synchronously. pino's default destination writes asynchronously, so
 * a line logged just before a plain stdout write (the first-start banner, start.ts) could land after
 * it; and a line still buffered when the process dies is lost. Sesame logs little per request (its
 * Auth0-style logs go to the store), so the synchronous write costs nothing measurable.
 */
const stdoutLines = () => destination({ dest: 1, sync: true });

/**
 * Builds the application without listening (STYLE.md §12): opens and migrates the store, loads keys,
 * seeds a new database, registers every route. `listen()` lives in server.ts.
 */
export async function buildApp(config: Config, opts: { now?: () => number; logger?: boolean; logStream?: Writable } = {}): Promise<BuiltApp> {
  const app = Fastify({
    logger: opts.logger === false ? false : {
      level: config.logLevel,
      redact: { paths: REDACT, censor: '[redacted]' },
      stream: opts.logStream ?? (prettyLogs(config) ? prettyStream(process.stdout) : stdoutLines()),
    },
    // X-Forwarded-For/-Proto/-Host count only from the peers SESAME_TRUST_PROXY names (issue 10 §2);
    // request.ip, .protocol and .host then describe the client. auth0-forwarded-for is a separate,
    // per-client decision (spec §1.1, src/http/end-user-ip.ts).
    trustProxy: fastifyTrustProxy(config.trustProxy),
    bodyLimit: 64 * 1024,
    // No per-request access lines: Sesame's own Auth0-style logs record what matters, and two log
    // lines per request would be the largest cost on the hot endpoints.
    logController: new LogController({ disableRequestLogging: true }),
    frameworkErrors: sendError,
    // Answers the parser's refusals (431, 400, 408) without a reset that could lose them.
    clientErrorHandler,
    // A request that reaches a draining server is served (the database stays open until the drain
    // ends) rather than answered 503: see installDrain.
    return503OnClosing: false,
    schemaController: { compilersFactory: { buildSerializer: sharedSerializerFactory as never } },
    ...(config.tlsCert && config.tlsKey ? { https: { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } } : {}),
  }) as unknown as FastifyInstance;

  const opened = await openStore(config.databaseUrl, { onBackgroundError: idleErrorLogger(app.log) });
  const { dataDir } = opened;
  // With metrics on, every part of the application sees the store through the counting decorator.
  let metrics: Metrics | undefined;
  if (metricsEnabled(config)) {
    // Loaded only when asked for: with metrics off, prom-client is never in the process.
    const { Metrics } = await import('./metrics/metrics.ts');
    metrics = new Metrics({ store: opened.store, ...(opened.pool ? { pool: opened.pool } : {}), ...(opened.file ? { sqliteFile: opened.file } : {}) });
  }
  const store = metrics ? observeStore(opened.store, metrics) : opened.store;
  try {
    await checkDevMail(config, store);
    const secret = resolveSecret(config, dataDir, app.log);
    const keyring = new Keyring(secret, config.secretPrevious);
    const keys = new KeyManager(store, keyring);
    await keys.init();
    const services: Services = {
      config,
      store,
      keyring,
      keys,
      log: app.log,
      mail: undefined as never,
      background: new Background(),
      issuer: config.issuer,
      now: opts.now ?? Date.now,
      ...(metrics ? { metrics } : {}),
    };
    // SMTP runs on its own thread so a saturated HTTP loop cannot starve delivery (mail/thread.ts).
    // The mail side decrypts the SMTP provider's password, so it gets the resolved secret.
    services.mail = createMailDelivery({ store, config: Object.freeze({ ...config, secret }), log: app.log, now: opts.now, metrics });
    // Instances started together on a new database seed it once (store/sql/migrate.ts).
    const report = await store.exclusive(() => bootstrap(services));

    app.decorate('sesame', services);
    installErrorHandler(app);
    installNulGuard(app); // before any route: it guards them all
    if (metrics) installRequestMetrics(app, metrics);
    registerOpenApi(app, services); // first: it collects every route registered after it
    await app.register(formbody);
    await app.register(cookie);
    registerAuthRoutes(app, services);
    registerPages(app, services);
    registerHome(app, services);
    registerManagementRoutes(app, services);
    registerAdmin(app, services);
    if (metrics && config.metricsPort === undefined) registerMetricsRoute(app, metrics);
    installDrain(app);
    // Fastify runs its own close of the HTTP server first (it drains in-flight requests), then
    // this: background jobs, the mail worker, and only then the database (issue 13 §3).
    app.addHook('onClose', async () => {
      await services.background.stop();
      await services.mail.stop();
      await store.close();
    });
    return { app, services, report, dataDir };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/**
 * Graceful drain on close (issue 13 §3): once closing starts, every response asks the client to close
 * its connection, so keep-alive clients (a load balancer, a pool) move to another instance instead
 * of sending more requests here, and the server's close completes once the last one is answered.
 * The listener is added only then: nothing on the hot path pays for it.
 */
function installDrain(app: FastifyInstance): void {
  app.addHook('preClose', (done) => {
    app.server.prependListener('request', (_req, res) => {
      res.shouldKeepAlive = false;
    });
    done();
  });
}
