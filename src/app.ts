import Fastify, { type FastifyInstance, type FastifyServerOptions, type onRouteHookHandler } from 'fastify';
import { v4 as uuidv4 } from 'uuid';
import { Authenticator } from './auth/authenticate.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { cursorSecret } from './db/server-settings.js';
import { countPendingStatuses } from './db/status-store.js';
import { authentication } from './plugins/authentication.js';
import { AppMetrics, requestMetrics } from './plugins/metrics.js';
import { openapi } from './plugins/openapi.js';
import { taxiiHttp } from './plugins/taxii-http.js';
import { taxiiServices } from './plugins/taxii-services.js';
import { adminRoutes } from './routes/admin/index.js';
import { apiRootRoutes } from './routes/api-roots.js';
import { collectionRoutes } from './routes/collections.js';
import { discoveryRoutes } from './routes/discovery.js';
import { docsRoutes } from './routes/docs.js';
import { objectRoutes } from './routes/objects.js';
import { operationsRoutes } from './routes/operations.js';
import { createStixValidator } from './stix/validate.js';
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

/**
 * Builds the whole server for a configuration and an open database, without
 * listening: server.ts listens, tests drive the same app in-process. The URL
 * map is all here.
 */
export async function buildApp(config: Readonly<Config>, database: Database, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config),
    genReqId: () => uuidv4(),
    // Paths work with and without the trailing slash (interop rule 10), without redirects (TAXII digest P11).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 300 },
    // Bodies are read by the objects route itself, up to each API root's max_content_length.
    bodyLimit: 1024 * 1024 * 1024,
  });
  if (options.onRoute) app.addHook('onRoute', options.onRoute);

  const secret = config.cursorSecret ?? (await cursorSecret(database.db));
  const metrics = new AppMetrics({ poolStats: () => database.poolStats(), pendingStatuses: () => countPendingStatuses(database.db) });
  await app.register(taxiiServices, {
    config,
    db: database.db,
    cursors: new CursorCodec(secret),
    validator: createStixValidator(),
    metrics,
  });
  await app.register(requestMetrics, { metrics });
  await app.register(taxiiHttp);
  // Before every route: the OpenAPI document is collected from the routes as they are registered.
  await app.register(openapi);
  await app.register(authentication, { authenticator: new Authenticator(database.db, config.scryptCost) });

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
