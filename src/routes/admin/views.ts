import type { FastifyInstance } from 'fastify';
import * as views from '../../services/admin/views.js';
import { actorOf } from './index.js';
import { anyList, anyObject, errors, idParam, security, stixId, tags, uuid } from './schemas.js';

/** Admin API: maturity profiles and revisions, bindings, grants, creator confidence, view previews. */
export async function viewRoutes(app: FastifyInstance) {
  const { db } = app.taxii;
  const common = { tags, security };
  const profileId = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$' };
  const policy = { type: 'object', additionalProperties: true, description: 'A maturity policy (schemas/views/policy.json); checked in full' };

  app.get('/profiles', { schema: { ...common, summary: 'List maturity profiles with their current policy', response: { 200: anyList, ...errors } } }, async () => views.listProfiles(db));
  app.post(
    '/profiles',
    {
      schema: {
        ...common,
        summary: "Create a profile from a policy, or as a copy of another profile's policy",
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['id', 'name'],
          properties: { id: profileId, name: { type: 'string', minLength: 1 }, level: { type: ['string', 'null'] }, policy, copy_of: { type: 'string' } },
        },
        response: { 201: anyObject, ...errors },
      },
    },
    async (request, reply) => {
      reply.status(201);
      return views.createProfile(db, actorOf(request), request.body as Parameters<typeof views.createProfile>[2]);
    },
  );
  app.get('/profiles/:id', { schema: { ...common, summary: 'Get a profile with its revision history', params: idParam('id', 'Profile id'), response: { 200: anyObject, ...errors } } }, async (request) =>
    views.getProfile(db, (request.params as { id: string }).id),
  );
  app.patch(
    '/profiles/:id',
    {
      schema: {
        ...common,
        summary: 'Edit a profile; a changed policy becomes a new revision',
        params: idParam('id', 'Profile id'),
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { name: { type: 'string', minLength: 1 }, level: { type: ['string', 'null'] }, policy } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => views.editProfile(db, actorOf(request), (request.params as { id: string }).id, request.body as Parameters<typeof views.editProfile>[3]),
  );

  const orgParam = idParam('organisation', 'Organisation id or name');
  app.get('/organisations/:organisation/binding', { schema: { ...common, summary: "An organisation's profile and binding history", params: orgParam, response: { 200: anyObject, ...errors } } }, async (request) =>
    views.getBinding(db, (request.params as { organisation: string }).organisation),
  );
  app.put(
    '/organisations/:organisation/binding',
    {
      schema: {
        ...common,
        summary: 'Bind an organisation to a profile from now on',
        params: orgParam,
        body: { type: 'object', additionalProperties: false, required: ['profile'], properties: { profile: profileId } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => views.setBinding(db, actorOf(request), (request.params as { organisation: string }).organisation, (request.body as { profile: string }).profile),
  );

  const collectionParam = { type: 'object', required: ['id'], properties: { id: uuid } };
  const grantBody = { type: 'object', additionalProperties: false, required: ['object', 'organisation'], properties: { object: stixId, organisation: { type: 'string', minLength: 1 } } };
  app.get('/collections/:id/grants', { schema: { ...common, summary: 'Grants of objects to organisations', params: collectionParam, response: { 200: anyList, ...errors } } }, async (request) =>
    views.listGrants(db, (request.params as { id: string }).id),
  );
  app.post('/collections/:id/grants', { schema: { ...common, summary: 'Grant an object to an organisation (need to know; the only way to TLP:RED)', params: collectionParam, body: grantBody, response: { 201: anyObject, ...errors } } }, async (request, reply) => {
    const body = request.body as { object: string; organisation: string };
    reply.status(201);
    return views.addGrant(db, actorOf(request), (request.params as { id: string }).id, body.object, body.organisation);
  });
  app.delete('/collections/:id/grants', { schema: { ...common, summary: 'Withdraw a grant', params: collectionParam, body: grantBody, response: { 204: { type: 'null' }, ...errors } } }, async (request, reply) => {
    const body = request.body as { object: string; organisation: string };
    await views.removeGrant(db, actorOf(request), (request.params as { id: string }).id, body.object, body.organisation);
    reply.status(204);
  });

  app.get(
    '/collections/:id/preview',
    {
      schema: {
        ...common,
        summary: "Preview an organisation's or a profile's view of a collection: counts by type and TLP, and the first page",
        params: collectionParam,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { organisation: { type: 'string' }, profile: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => {
      const q = request.query as { organisation?: string; profile?: string; limit: number };
      return views.previewView(db, (request.params as { id: string }).id, q, q.limit);
    },
  );

  app.get('/creator-confidence', { schema: { ...common, summary: 'Default confidences by creator identity', response: { 200: anyList, ...errors } } }, async () => views.listCreatorConfidence(db));
  const identityParam = { type: 'object', required: ['identity'], properties: { identity: { type: 'string', pattern: '^identity--[0-9a-fA-F-]{36}$' } } };
  app.put(
    '/creator-confidence/:identity',
    {
      schema: {
        ...common,
        summary: "Set the confidence assumed for an identity's objects that carry none (decisions only)",
        params: identityParam,
        body: { type: 'object', additionalProperties: false, required: ['confidence'], properties: { confidence: { type: 'integer', minimum: 0, maximum: 100 } } },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => views.setCreatorDefault(db, actorOf(request), (request.params as { identity: string }).identity, (request.body as { confidence: number }).confidence),
  );
  app.delete('/creator-confidence/:identity', { schema: { ...common, summary: 'Remove a creator confidence default', params: identityParam, response: { 204: { type: 'null' }, ...errors } } }, async (request, reply) => {
    await views.setCreatorDefault(db, actorOf(request), (request.params as { identity: string }).identity, null);
    reply.status(204);
  });
}
