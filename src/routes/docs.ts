import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export const DOCS_PREFIX = '/docs';

/**
 * The OpenAPI document as JSON at /openapi.json and the browsable page
 * (Swagger UI) at /docs: public, outside TAXII (no content negotiation, no
 * TAXII Content-Type). The document is built by the openapi plugin.
 */
export async function docsRoutes(app: FastifyInstance) {
  app.get(
    '/openapi.json',
    {
      config: { taxii: false },
      schema: {
        operationId: 'getOpenApiDocument',
        tags: ['Operations'],
        summary: 'This OpenAPI document',
        description: 'The OpenAPI 3 description of every route, built from the route schemas. Public.',
        security: [],
        response: { 200: { description: 'The OpenAPI document.', type: 'object', additionalProperties: true } },
      },
    },
    async (_request, reply) => reply.type('application/json; charset=utf-8').send(JSON.stringify(app.swagger())),
  );

  // The Swagger UI routes are registered by the plugin: mark them as outside
  // TAXII, and show the page itself (not its assets) in the document.
  app.addHook('onRoute', (route) => {
    if (route.url !== DOCS_PREFIX && !route.url.startsWith(`${DOCS_PREFIX}/`)) return;
    route.config = { ...route.config, taxii: false };
    if (route.url === DOCS_PREFIX || route.url === `${DOCS_PREFIX}/`) {
      route.schema = {
        operationId: 'getDocumentationPage',
        tags: ['Operations'],
        summary: 'Browsable API documentation',
        description: 'Swagger UI on /openapi.json (its assets are served under /docs/static/). Public.',
        security: [],
        response: { 200: { description: 'An HTML page.', content: { 'text/html': { schema: { type: 'string' } } } } },
      };
    }
  });
  await app.register(fastifySwaggerUi, { routePrefix: DOCS_PREFIX });
}
