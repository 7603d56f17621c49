import type { FastifyInstance } from 'fastify';
import { listApiRoots } from '../db/catalog.js';
import { discoveryResource } from '../taxii/resources.js';
import { methodNotAllowed } from './method-not-allowed.js';
import { taxiiRoute } from './taxii-schemas.js';

/**
 * Server Discovery (TAXII §4.1) at /taxii2/. API roots are listed as relative
 * URLs ("/api1/"); a caller sees the roots it has access to (all of them when
 * discovery is public and no credentials are given).
 */
export async function discoveryRoutes(app: FastifyInstance) {
  const { config, db } = app.taxii;
  const schema = taxiiRoute({
    operationId: 'getDiscovery',
    tag: 'Discovery',
    summary: 'Server discovery',
    description: 'TAXII §4.1: the server and the API roots the caller can use (all of them without credentials when PUBLIC_DISCOVERY is on).',
    params: [],
    ok: { status: 200, description: 'The discovery resource.', schema: 'discovery' },
    errors: [],
    anonymous: config.publicDiscovery,
  });
  app.get('/taxii2/', { ...schema, onRequest: config.publicDiscovery ? app.optionalCredentials : app.requireCredentials }, async (request) => {
    const roots = await listApiRoots(db, request.principal);
    const defaultRoot = roots.find((r) => r.isDefault);
    return JSON.stringify(
      discoveryResource({
        title: config.discovery.title,
        description: config.discovery.description,
        contact: config.discovery.contact,
        default: defaultRoot ? `/${defaultRoot.id}/` : undefined,
        apiRoots: roots.map((r) => `/${r.id}/`),
      }),
    );
  });
  methodNotAllowed(app, '/taxii2/', ['GET']);
}
