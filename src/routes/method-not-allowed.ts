import type { FastifyInstance, HTTPMethods } from 'fastify';
import { TaxiiError } from '../taxii/errors.js';

const ALL: HTTPMethods[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** Answers 405 with an Allow header for the methods a TAXII path does not take. */
export function methodNotAllowed(app: FastifyInstance, url: string, allowed: HTTPMethods[]): void {
  const others = ALL.filter((m) => !allowed.includes(m));
  const allow = [...allowed, ...(allowed.includes('GET') ? ['HEAD'] : [])].join(', ');
  app.route({
    method: others,
    url,
    // Not an operation of the API: the OpenAPI document lists the methods a path takes.
    schema: { hide: true },
    handler: async () => {
      throw new TaxiiError(405, 'Method not allowed', `This endpoint supports ${allow}.`, undefined, { Allow: allow });
    },
  });
}
