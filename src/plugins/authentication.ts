import fastifyAuth from '@fastify/auth';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { Authenticator, Principal } from '../auth/authenticate.js';
import { unauthorized } from '../taxii/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
  interface FastifyInstance {
    /** onRequest hook: the caller must present valid credentials (401 otherwise, TAXII §1.6.9). */
    requireCredentials: onRequestHookHandler;
    /** onRequest hook: credentials are checked when given, and not required (public discovery). */
    optionalCredentials: onRequestHookHandler;
  }
}

/**
 * Authentication runs in onRequest, before any body is read, so anonymous
 * requests never cost a parse. @fastify/auth composes the strategies.
 */
export const authentication = fp(
  async (app: FastifyInstance, options: { authenticator: Authenticator }) => {
    await app.register(fastifyAuth);
    app.decorateRequest('principal', undefined);

    async function verifyCredentials(request: FastifyRequest, _reply: FastifyReply) {
      const principal = await options.authenticator.authenticate(request.headers.authorization);
      if (!principal) throw unauthorized();
      request.principal = principal;
    }
    async function anonymousWithoutCredentials(request: FastifyRequest, _reply: FastifyReply) {
      if (request.headers.authorization !== undefined) throw unauthorized();
    }

    app.decorate('requireCredentials', app.auth([verifyCredentials]) as unknown as onRequestHookHandler);
    app.decorate(
      'optionalCredentials',
      app.auth([verifyCredentials, anonymousWithoutCredentials], { relation: 'or' }) as unknown as onRequestHookHandler,
    );
  },
  { name: 'authentication' },
);
