import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { v4 as uuidv4 } from 'uuid';
import { Authenticator } from './auth/authenticate.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { cursorSecret } from './db/server-settings.js';
import { authentication } from './plugins/authentication.js';
import { taxiiHttp } from './plugins/taxii-http.js';
import { taxiiServices } from './plugins/taxii-services.js';
import { apiRootRoutes } from './routes/api-roots.js';
import { collectionRoutes } from './routes/collections.js';
import { discoveryRoutes } from './routes/discovery.js';
import { objectRoutes } from './routes/objects.js';
import { createStixValidator } from './stix/validate.js';
import { CursorCodec } from './taxii/cursor.js';

export interface AppOptions {
  /** pino options, or false for no logging (tests). */
  logger?: FastifyServerOptions['logger'];
}

export function loggerOptions(config: Readonly<Config>): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: '[redacted]' },
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

  const secret = config.cursorSecret ?? (await cursorSecret(database.db));
  await app.register(taxiiServices, {
    config,
    db: database.db,
    cursors: new CursorCodec(secret),
    validator: createStixValidator(),
  });
  await app.register(taxiiHttp);
  await app.register(authentication, { authenticator: new Authenticator(database.db, config.scryptCost) });

  await app.register(discoveryRoutes);
  await app.register(apiRootRoutes);
  await app.register(collectionRoutes);
  await app.register(objectRoutes);
  return app;
}
