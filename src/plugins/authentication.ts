import fastifyAuth from '@fastify/auth';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { Authenticator, Principal } from '../auth/authenticate.js';
import type { RateLimiter } from '../auth/rate-limiter.js';
import { TaxiiError, unauthorized } from '../taxii/errors.js';

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
  async (app: FastifyInstance, options: { authenticator: Authenticator; limiter?: RateLimiter | undefined }) => {
    await app.register(fastifyAuth);
    app.decorateRequest('principal', undefined);
    const { limiter } = options;
    // A 429 of one strategy must not turn into the 401 of the other (the "or" reports the last failure).
    const limited = new WeakMap<FastifyRequest, TaxiiError>();
    const remember = (request: FastifyRequest, error: unknown) => {
      if (error instanceof TaxiiError && error.httpStatus === 429) limited.set(request, error);
      return error;
    };

    // Rate limits (auth/rate-limiter.ts): wrong credentials count against the source address and the
    // presented name or key id; requests of an authenticated account against its budget. Requests
    // without credentials count for nothing but public discovery (by address); /healthz, /readyz and
    // /metrics never authenticate, so no limit applies to them.
    async function verifyCredentials(request: FastifyRequest, _reply: FastifyReply) {
      const header = request.headers.authorization;
      if (header === undefined) throw limited.get(request) ?? unauthorized();
      try {
        const attempt = limiter?.authAttempt(request.ip, header);
        attempt?.assertNotBlocked();
        const principal = await options.authenticator.authenticate(header, attempt);
        if (!principal) {
          await attempt?.failed();
          throw unauthorized();
        }
        await limiter?.takeRequest(`acct:${principal.accountId}`);
        request.principal = principal;
      } catch (error) {
        throw remember(request, error);
      }
    }
    async function anonymousWithoutCredentials(request: FastifyRequest, _reply: FastifyReply) {
      if (request.headers.authorization !== undefined) throw limited.get(request) ?? unauthorized();
      try {
        await limiter?.takeRequest(`ip:${request.ip}`);
      } catch (error) {
        throw remember(request, error);
      }
    }

    app.decorate('requireCredentials', app.auth([verifyCredentials]) as unknown as onRequestHookHandler);
    app.decorate(
      'optionalCredentials',
      // The last failure is the one reported: credentials checked last, so that a database outage
      // while checking them answers 503 rather than 401.
      app.auth([anonymousWithoutCredentials, verifyCredentials], { relation: 'or' }) as unknown as onRequestHookHandler,
    );
  },
  { name: 'authentication' },
);
