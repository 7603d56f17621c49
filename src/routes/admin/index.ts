import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Actor } from '../../services/admin/audit.js';
import { badRequest, forbidden } from '../../taxii/errors.js';
import { scanJson } from '../../taxii/text.js';
import { accessAuditRoutes } from './access-audit.js';
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
  app.setValidatorCompiler(({ schema, httpPart }) => {
    if (httpPart === 'body') return strict.compile(schema);
    const validate = lenient.compile(schema);
    // Ajv coerces "1e400" to Infinity, which then passes `type: integer` and `maximum` (and reached the database as a 500).
    const checked = (data: unknown): boolean | { error: Error } => {
      const valid = validate(data);
      result.errors = validate.errors;
      const values = valid && data !== null && typeof data === 'object' ? Object.entries(data as Record<string, unknown>) : [];
      const infinite = values.find(([, v]) => typeof v === 'number' && !Number.isFinite(v));
      return infinite ? { error: Object.assign(new Error(`${httpPart}/${infinite[0]} must be a finite number`), { statusCode: 400 }) } : valid;
    };
    const result = Object.assign(checked, { errors: null as typeof validate.errors });
    return result;
  });

  // Admin bodies are small JSON documents.
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= 1024 * 1024;
    route.config = { ...(route.config as object), taxii: false } as typeof route.config;
  });
  app.addHook('onRequest', app.requireCredentials);
  app.addHook('onRequest', requireAdmin);
  // Before the schemas: a body nested deeper than MAX_JSON_DEPTH, or holding text the database cannot store
  // (U+0000, an unpaired surrogate), is a 400 rather than a stack overflow or a driver error.
  const maxDepth = app.taxii.config.maxJsonDepth;
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined || request.body === null) return;
    const scan = scanJson(request.body, 'body', maxDepth);
    if (scan.depth > maxDepth) throw badRequest(`The JSON body is nested deeper than ${maxDepth} levels.`);
    if (scan.unstorableAt) throw badRequest(`${scan.unstorableAt} holds U+0000 or an unpaired surrogate, which cannot be stored.`);
  });

  await app.register(catalogRoutes);
  await app.register(accountRoutes);
  await app.register(viewRoutes);
  await app.register(accessAuditRoutes);
}
