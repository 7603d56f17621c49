import type { FastifyInstance } from 'fastify';
import * as accounts from '../../services/admin/accounts.js';
import { actorOf } from './index.js';
import { anyList, anyObject, errors, idParam, security, tags } from './schemas.js';

/** Admin API: accounts and API keys (a key is shown once, when created or rotated). */
export async function accountRoutes(app: FastifyInstance) {
  const { db, config } = app.taxii;
  const common = { tags, security };
  const accountParam = idParam('account', 'Account id or username');
  const password = { type: 'string', minLength: 12, maxLength: 1024 };

  app.get(
    '/accounts',
    { schema: { ...common, summary: 'List accounts', querystring: { type: 'object', properties: { organisation: { type: 'string' } } }, response: { 200: anyList, ...errors } } },
    async (request) => accounts.listAccounts(db, (request.query as { organisation?: string }).organisation),
  );
  app.post(
    '/accounts',
    {
      schema: {
        ...common,
        summary: 'Create an account',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['username', 'organisation'],
          properties: {
            username: { type: 'string', pattern: '^[^:\\s]{1,100}$' },
            organisation: { type: 'string', minLength: 1 },
            password,
            admin: { type: 'boolean' },
            disabled: { type: 'boolean' },
          },
        },
        response: { 201: anyObject, ...errors },
      },
    },
    async (request, reply) => {
      reply.status(201);
      return accounts.createAccount(db, actorOf(request), request.body as accounts.AccountInput, config.scryptCost);
    },
  );
  app.get('/accounts/:account', { schema: { ...common, summary: 'Get an account', params: accountParam, response: { 200: anyObject, ...errors } } }, async (request) =>
    accounts.findAccount(db, (request.params as { account: string }).account),
  );
  app.patch(
    '/accounts/:account',
    {
      schema: {
        ...common,
        summary: 'Change an account: organisation, password (null removes it), admin, disabled',
        params: accountParam,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { organisation: { type: 'string', minLength: 1 }, password: { anyOf: [password, { type: 'null' }] }, admin: { type: 'boolean' }, disabled: { type: 'boolean' } },
        },
        response: { 200: anyObject, ...errors },
      },
    },
    async (request) => accounts.updateAccount(db, actorOf(request), (request.params as { account: string }).account, request.body as Parameters<typeof accounts.updateAccount>[3], config.scryptCost),
  );
  app.delete('/accounts/:account', { schema: { ...common, summary: 'Delete an account and its keys', params: accountParam, response: { 204: { type: 'null' }, ...errors } } }, async (request, reply) => {
    await accounts.deleteAccount(db, actorOf(request), (request.params as { account: string }).account);
    reply.status(204);
  });

  app.get('/accounts/:account/api-keys', { schema: { ...common, summary: "List an account's API keys (never their secrets)", params: accountParam, response: { 200: anyList, ...errors } } }, async (request) =>
    accounts.listApiKeys(db, (request.params as { account: string }).account),
  );
  app.post(
    '/accounts/:account/api-keys',
    {
      schema: {
        ...common,
        summary: 'Create an API key; the answer is the only time the key is shown',
        params: accountParam,
        body: { type: 'object', additionalProperties: false, properties: { label: { type: 'string', maxLength: 200 } } },
        response: { 201: anyObject, ...errors },
      },
    },
    async (request, reply) => {
      reply.status(201);
      return accounts.createApiKey(db, actorOf(request), (request.params as { account: string }).account, (request.body as { label?: string } | undefined)?.label ?? null, config.scryptCost);
    },
  );
  const keyParam = { type: 'object', required: ['keyId'], properties: { keyId: { type: 'string', pattern: '^[0-9a-f]{24}$' } } };
  app.post('/api-keys/:keyId/revoke', { schema: { ...common, summary: 'Revoke an API key at once', params: keyParam, response: { 200: anyObject, ...errors } } }, async (request) =>
    accounts.revokeApiKey(db, actorOf(request), (request.params as { keyId: string }).keyId),
  );
  app.post('/api-keys/:keyId/rotate', { schema: { ...common, summary: 'Revoke an API key and create its replacement (shown once)', params: keyParam, response: { 200: anyObject, ...errors } } }, async (request) =>
    accounts.rotateApiKey(db, actorOf(request), (request.params as { keyId: string }).keyId, config.scryptCost),
  );
}
