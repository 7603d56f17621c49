import { readFileSync } from 'node:fs';
import fastifySwagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { projectPath } from '../project-root.js';
import { TAXII_SCHEMA_NAMES } from '../routes/taxii-schemas.js';

const pkg = JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { version: string; description?: string };

/** The TAXII resource schemas (schemas/taxii/*.json), read once per process. */
const taxiiSchemas: Record<string, unknown>[] = TAXII_SCHEMA_NAMES.map(
  (name) => JSON.parse(readFileSync(projectPath('schemas', 'taxii', `${name}.json`), 'utf8')) as Record<string, unknown>,
);

/**
 * Component names of shared schemas: "taxii.discovery" for
 * https://taxii-hub.dev/schemas/taxii/discovery.json (OpenAPI allows only
 * [A-Za-z0-9._-] there); other $ids are kept, cleaned of other characters.
 */
export function componentName(json: { $id?: unknown }, index: number): string {
  if (typeof json.$id !== 'string') return `def-${index}`;
  const match = /\/schemas\/(.+)\.json$/.exec(json.$id);
  return (match ? match[1]!.replaceAll('/', '.') : json.$id).replace(/[^A-Za-z0-9._-]/g, '_');
}

/**
 * JSON Schema allows `required: []` (the admin API's PATCH bodies use it),
 * OpenAPI 3.0 does not (minItems 1): an empty list says nothing, so it goes.
 */
export function dropEmptyRequired<T>(value: T): T {
  if (Array.isArray(value)) {
    for (const item of value) dropEmptyRequired(item);
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (Array.isArray(record.required) && record.required.length === 0) delete record.required;
    for (const child of Object.values(record)) dropEmptyRequired(child);
  }
  return value;
}

/**
 * The OpenAPI document of the whole HTTP surface, built by @fastify/swagger
 * from the route schemas: every route registered after this plugin (TAXII,
 * operations, admin) is described from its own schema, nothing is listed by
 * hand. Registered before the routes; the TAXII schemas are shared with
 * app.addSchema and referenced by $id.
 */
export const openapi = fp(
  async (app: FastifyInstance) => {
    for (const schema of taxiiSchemas) app.addSchema(schema);
    await app.register(fastifySwagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'taxii-hub',
          version: pkg.version,
          description:
            'A TAXII 2.1 server (OASIS Standard, June 2021). TAXII responses, errors included, are ' +
            '`application/taxii+json;version=2.1`; every path also works without its trailing slash. ' +
            'The operations endpoints (/healthz, /readyz, /metrics, /openapi.json, /docs) need no credentials.',
        },
        tags: [
          { name: 'Discovery', description: 'Server discovery, API roots and status resources (TAXII §4).' },
          { name: 'Collections', description: 'Collections of an API root (TAXII §5.1, §5.2).' },
          { name: 'Objects', description: 'Objects, versions and manifests of a collection (TAXII §5.3–§5.8).' },
          { name: 'Operations', description: 'Health, readiness, metrics and this documentation; public.' },
        ],
        components: {
          securitySchemes: {
            basicAuth: { type: 'http', scheme: 'basic', description: 'An account name and password.' },
            bearerAuth: {
              type: 'http',
              scheme: 'bearer',
              bearerFormat: 'thk_<key id>_<secret>',
              description: 'An API key. `Authorization: Token <key>` is accepted as well as `Authorization: Bearer <key>`.',
            },
          },
        },
        // Routes that say nothing (the admin API, for one) need credentials; public ones declare `security: []`.
        security: [{ basicAuth: [] }, { bearerAuth: [] }],
      },
      transformObject: (document) => dropEmptyRequired('openapiObject' in document ? document.openapiObject : document.swaggerObject),
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) => componentName(json as { $id?: unknown }, i),
      },
    });
  },
  { name: 'openapi' },
);
