import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Actor } from '../../services/admin/audit.js';
import { forbidden } from '../../taxii/errors.js';
import { accountRoutes } from './accounts.js';
import { catalogRoutes } from './catalog.js';
import { viewRoutes } from './views.js';

/**
 * The admin HTTP API under /admin: JSON in and out, admin accounts only (403
 * for everyone else, with nothing about what exists), every body validated by
 * its JSON schema, every change audited. The same services serve the command
 * line.
 */
export const requireAdmin: onRequestHookHandler = async (request) => {
  if (!request.principal?.isAdmin) throw forbidden('The admin API is for admin accounts only.');
};

export function actorOf(request: FastifyRequest): Actor {
  return { name: `account:${request.principal!.username}` };
}

export async function adminRoutes(app: FastifyInstance) {
  // Bodies are validated strictly (no type coercion, nothing dropped);
  // query strings and path parameters may coerce "10" to 10.
  const strict = new Ajv({ allErrors: true, removeAdditional: false, coerceTypes: false, useDefaults: true });
  const lenient = new Ajv({ allErrors: true, removeAdditional: false, coerceTypes: true, useDefaults: true });
  addFormats.default(strict);
  addFormats.default(lenient);
  for (const ajv of [strict, lenient]) ajv.addKeyword({ keyword: 'example' });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : lenient).compile(schema));

  // Admin bodies are small JSON documents.
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= 1024 * 1024;
    route.config = { ...(route.config as object), taxii: false } as typeof route.config;
  });
  app.addHook('onRequest', app.requireCredentials);
  app.addHook('onRequest', requireAdmin);

  await app.register(catalogRoutes);
  await app.register(accountRoutes);
  await app.register(viewRoutes);
}
