import Fastify, { type FastifyInstance, type FastifyServerOptions, type onRouteHookHandler } from 'fastify';
import { v4 as uuidv4 } from 'uuid';
import { Authenticator } from './auth/authenticate.js';
import { RateLimiter } from './auth/rate-limiter.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { cursorSecret } from './db/server-settings.js';
import { countPendingStatuses } from './db/status-store.js';
import { authentication } from './plugins/authentication.js';
import { loadShedding } from './plugins/load-shedding.js';
import { AppMetrics, requestMetrics } from './plugins/metrics.js';
import { openapi } from './plugins/openapi.js';
import { clientErrorHandler, frameworkErrors, taxiiHttp } from './plugins/taxii-http.js';
import { taxiiServices } from './plugins/taxii-services.js';
import { adminRoutes } from './routes/admin/index.js';
import { apiRootRoutes } from './routes/api-roots.js';
import { collectionRoutes } from './routes/collections.js';
import { discoveryRoutes } from './routes/discovery.js';
import { docsRoutes } from './routes/docs.js';
import { objectRoutes } from './routes/objects.js';
import { operationsRoutes } from './routes/operations.js';
import { DeliveryAuditor } from './services/delivery-audit.js';
import { createStixValidator } from './stix/validate.js';
import { httpsOptions } from './tls.js';
import { CursorCodec } from './taxii/cursor.js';

export interface AppOptions {
  /** pino options, or false for no logging (tests). */
  logger?: FastifyServerOptions['logger'];
  /** Called for every route as it is registered (the OpenAPI test lists the routes this way). */
  onRoute?: onRouteHookHandler;
}

/**
 * Credentials never reach the logs: the Authorization and Cookie headers
 * wherever a request or its headers are logged, and any password, key or
 * secret property of a logged object. Fastify's request serializer logs no
 * headers at all; these paths cover code that logs more.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'password',
  '*.password',
  'api_key',
  '*.api_key',
  'key',
  '*.key',
  'secret',
  '*.secret',
];

export function loggerOptions(config: Readonly<Config>): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
}

/** TRUST_PROXY as Fastify takes it: a hop count n trusts the n proxies nearest to the server. */
function trustProxyOption(trust: Config['trustProxy']): FastifyServerOptions['trustProxy'] {
  return typeof trust === 'number' ? (_address: string, hop: number) => hop < trust : trust;
}

/**
 * Builds the whole server for a configuration and an open database, without
 * listening: server.ts listens, tests drive the same app in-process. The URL
 * map is all here.
 */
export async function buildApp(config: Readonly<Config>, database: Database, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    // TLS terminated here when configured (tls.ts); Fastify takes it only at construction.
    ...(config.tls ? { https: httpsOptions(config.tls) } : {}),
    // Which proxies' X-Forwarded-For decides request.ip (rate limits, audit): none unless TRUST_PROXY says.
    trustProxy: trustProxyOption(config.trustProxy),
    logger: options.logger ?? loggerOptions(config),
    genReqId: () => uuidv4(),
    // Paths work with and without the trailing slash (interop rule 10), without redirects (TAXII digest P11).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 300 },
    // A URL that does not decode, an over-long path segment, a request Node's parser refuses: TAXII errors too.
    frameworkErrors,
    clientErrorHandler,
    // Bodies are read by the objects route itself, up to each API root's max_content_length.
    bodyLimit: 1024 * 1024 * 1024,
    // On close: idle keep-alive connections are closed at once, in-flight requests finish, and
    // requests arriving meanwhile get load-shedding's 503 TAXII error resource (not Fastify's own body).
    forceCloseConnections: 'idle',
    return503OnClosing: false,
    // (With `https` Fastify's types pick the HTTPS server type; routes and hooks are the same.)
  } as FastifyServerOptions);
  if (options.onRoute) app.addHook('onRoute', options.onRoute);

  const secret = config.cursorSecret ?? (await cursorSecret(database.db));
  const metrics = new AppMetrics({ poolStats: () => database.poolStats(), pendingStatuses: () => countPendingStatuses(database.db) });
  // Batched writers: app.close() (SIGTERM in server.ts) writes what they still hold.
  const deliveries = new DeliveryAuditor(database.db, { scope: config.deliveryAudit, log: app.log });
  const limiter = config.rateLimitEnabled
    ? new RateLimiter(database.db, {
        requestsPerWindow: config.rateLimitPerWindow,
        authFailuresPerWindow: config.authFailureLimitPerWindow,
        windowMs: config.rateLimitWindowMs,
        syncIntervalMs: config.rateLimitSyncMs,
        log: app.log,
      })
    : undefined;
  limiter?.start();
  app.addHook('onClose', async () => {
    await Promise.all([deliveries.close(), limiter?.close()]);
  });
  await app.register(taxiiServices, {
    config,
    db: database.db,
    cursors: new CursorCodec(secret),
    validator: createStixValidator(),
    metrics,
    deliveries,
  });
  await app.register(requestMetrics, { metrics });
  // Before authentication and every route: an overloaded or stopping server refuses work at once.
  await app.register(loadShedding, { config });
  await app.register(taxiiHttp);
  // Before every route: the OpenAPI document is collected from the routes as they are registered.
  await app.register(openapi);
  await app.register(authentication, { authenticator: new Authenticator(database.db, config.scryptCost), limiter });

  // Operations, outside TAXII and public: /healthz, /readyz, /metrics, /openapi.json, /docs.
  await app.register(operationsRoutes, { metrics });
  await app.register(docsRoutes);

  await app.register(discoveryRoutes);
  await app.register(apiRootRoutes);
  await app.register(collectionRoutes);
  await app.register(objectRoutes);
  await app.register(adminRoutes, { prefix: '/admin' });
  return app;
}
