import type { FastifyInstance } from 'fastify';
import { listAudit } from '../../services/admin/audit.js';
import * as catalog from '../../services/admin/catalog.js';
import { actorOf } from './index.js';
import { anyList, anyObject, errors, idParam, security, tags, tlpLevel, uuid } from './schemas.js';

/** Admin API: API roots, collections (with their view settings), organisations, permissions, the audit trail. */
export async function catalogRoutes(app: FastifyInstance) {
  const { db, config } = app.taxii;
  const common = { tags, security };

  app.get('/api-roots', { schema: { ...common, summary: 'List API roots', response: { 200: anyList, ...errors } } }, async () => catalog.listApiRoots(db));
  app.post(
    '/api-roots',
    {
      schema: {
        ...common,
        summary: 'Create an API root',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['id', 'title'],
          properties: {
            id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._~-]{0,62}$' },
            title: { type: 'string', minLength: 1 },
            description: { type: ['string', 'null'] },
            max_content_length: { type: 'integer', minimum: 1024, maximum: 1073741824 },
            default: { type: 'boolean' },
          },
        },
        response: { 201: anyObject, ...errors },
      },
    },
    async (request, reply) => {
      reply.status(201);
      return catalog.createApiRoot(db, actorOf(request), request.body as catalog.ApiRootInput, config.defaultMaxContentLength);
    },
  );
  app.get('/api-roots/:id', { schema: { ...common, summary: 'Get an API root', params: idParam('id', 'API root id'), response: { 200: anyObject, ...errors } } }, async (request) =>
    catalog.getApiRoot(db, (request.params as { id: string }).id),
  );
  app.patch(
    '/api-roots/:id',
    {
      schema: {
        ...common,
        summary: 'Change an API root',
        params: idParam('id', 'API root id'),
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            title: { type: 'string', minLength: 1 },
            description: { type: ['string', 'null'] },
            max_content_length: { type: 'integer', minimum: 1024, maximum: 1073741824 },
            default: { type: 'boolean' },
          },
        },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => catalog.updateApiRoot(db, actorOf(request), (request.params as { id: string }).id, request.body as Partial<catalog.ApiRootInput>),
  );
  app.delete('/api-roots/:id', { schema: { ...common, summary: 'Delete an empty API root', params: idParam('id', 'API root id'), response: { 204: { type: 'null' }, ...errors } } }, async (request, reply) => {
    await catalog.deleteApiRoot(db, actorOf(request), (request.params as { id: string }).id);
    reply.status(204);
  });

  const collectionBody = (required: string[]) => ({
    type: 'object',
    additionalProperties: false,
    required,
    minProperties: 1,
    properties: {
      id: { type: 'string', pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$', description: 'UUIDv4; generated when absent' },
      api_root: { type: 'string' },
      title: { type: 'string', minLength: 1 },
      description: { type: ['string', 'null'] },
      alias: { anyOf: [{ type: 'string', pattern: '^[A-Za-z0-9._~-]{1,100}$' }, { type: 'null' }] },
      media_types: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { enum: ['application/stix+json;version=2.1', 'application/stix+json;version=2.0'] },
      },
      default_tlp: tlpLevel,
      default_confidence: { anyOf: [{ type: 'integer', minimum: 0, maximum: 100 }, { type: 'null' }] },
      pinned_profile: { type: ['string', 'null'] },
    },
  });
  app.get(
    '/collections',
    { schema: { ...common, summary: 'List collections', querystring: { type: 'object', properties: { api_root: { type: 'string' } } }, response: { 200: anyList, ...errors } } },
    async (request) => catalog.listCollections(db, (request.query as { api_root?: string }).api_root),
  );
  app.post('/collections', { schema: { ...common, summary: 'Create a collection', body: collectionBody(['api_root', 'title']), response: { 201: anyObject, ...errors } } }, async (request, reply) => {
    reply.status(201);
    return catalog.createCollection(db, actorOf(request), request.body as catalog.CollectionInput);
  });
  app.get('/collections/:id', { schema: { ...common, summary: 'Get a collection', params: { type: 'object', required: ['id'], properties: { id: uuid } }, response: { 200: anyObject, ...errors } } }, async (request) =>
    catalog.getCollection(db, (request.params as { id: string }).id),
  );
  app.patch(
    '/collections/:id',
    {
      schema: {
        ...common,
        summary: 'Change a collection, its default TLP and confidence, or its pinned profile',
        params: { type: 'object', required: ['id'], properties: { id: uuid } },
        body: { ...collectionBody([]), properties: Object.fromEntries(Object.entries(collectionBody([]).properties).filter(([k]) => k !== 'id' && k !== 'api_root')) },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => catalog.updateCollection(db, actorOf(request), (request.params as { id: string }).id, request.body as Partial<catalog.CollectionInput>),
  );
  app.delete('/collections/:id', { schema: { ...common, summary: 'Delete a collection and every object in it', params: { type: 'object', required: ['id'], properties: { id: uuid } }, response: { 204: { type: 'null' }, ...errors } } }, async (request, reply) => {
    await catalog.deleteCollection(db, actorOf(request), (request.params as { id: string }).id);
    reply.status(204);
  });

  app.get('/collections/:id/permissions', { schema: { ...common, summary: 'Organisations with rights on a collection', params: { type: 'object', required: ['id'], properties: { id: uuid } }, response: { 200: anyList, ...errors } } }, async (request) =>
    catalog.listPermissions(db, (request.params as { id: string }).id),
  );
  app.put(
    '/collections/:id/permissions/:organisation',
    {
      schema: {
        ...common,
        summary: "Set an organisation's rights on a collection",
        params: { type: 'object', required: ['id', 'organisation'], properties: { id: uuid, organisation: { type: 'string', minLength: 1 } } },
        body: { type: 'object', additionalProperties: false, required: ['read', 'write'], properties: { read: { type: 'boolean' }, write: { type: 'boolean' } } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => {
      const { id, organisation } = request.params as { id: string; organisation: string };
      return catalog.setPermission(db, actorOf(request), id, organisation, request.body as { read: boolean; write: boolean });
    },
  );
  app.delete(
    '/collections/:id/permissions/:organisation',
    { schema: { ...common, summary: "Remove an organisation's rights on a collection", params: { type: 'object', required: ['id', 'organisation'], properties: { id: uuid, organisation: { type: 'string', minLength: 1 } } }, response: { 204: { type: 'null' }, ...errors } } },
    async (request, reply) => {
      const { id, organisation } = request.params as { id: string; organisation: string };
      await catalog.removePermission(db, actorOf(request), id, organisation);
      reply.status(204);
    },
  );

  app.get('/organisations', { schema: { ...common, summary: 'List organisations', response: { 200: anyList, ...errors } } }, async () => catalog.listOrganisations(db));
  app.post(
    '/organisations',
    {
      schema: {
        ...common,
        summary: 'Create an organisation',
        body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, id: uuid } },
        response: { 201: anyObject, ...errors },
      },
    },
    async (request, reply) => {
      reply.status(201);
      return catalog.createOrganisation(db, actorOf(request), request.body as { name: string; id?: string });
    },
  );
  app.get('/organisations/:organisation', { schema: { ...common, summary: 'Get an organisation (id or name)', params: idParam('organisation', 'Organisation id or name'), response: { 200: anyObject, ...errors } } }, async (request) =>
    catalog.findOrganisation(db, (request.params as { organisation: string }).organisation),
  );
  app.patch(
    '/organisations/:organisation',
    {
      schema: {
        ...common,
        summary: 'Rename an organisation',
        params: idParam('organisation', 'Organisation id or name'),
        body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 200 } } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => catalog.renameOrganisation(db, actorOf(request), (request.params as { organisation: string }).organisation, (request.body as { name: string }).name),
  );
  app.delete('/organisations/:organisation', { schema: { ...common, summary: 'Delete an organisation and its accounts', params: idParam('organisation', 'Organisation id or name'), response: { 204: { type: 'null' }, ...errors } } }, async (request, reply) => {
    await catalog.deleteOrganisation(db, actorOf(request), (request.params as { organisation: string }).organisation);
    reply.status(204);
  });

  app.get(
    '/audit',
    {
      schema: {
        ...common,
        summary: 'The audit trail of operator changes, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            target_type: { type: 'string' },
            target_id: { type: 'string' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            before: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Only entries older than this id (paging)' },
          },
        },
        response: { 200: anyList, ...errors },
      },
    },
    async (request) => {
      const q = request.query as { target_type?: string; target_id?: string; limit: number; before?: number };
      return listAudit(db, { limit: q.limit, ...(q.target_type ? { targetType: q.target_type } : {}), ...(q.target_id ? { targetId: q.target_id } : {}), ...(q.before ? { beforeId: q.before } : {}) });
    },
  );
}
