import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { TaxiiError, notAcceptable, notFound } from '../taxii/errors.js';
import { acceptsTaxii, TAXII_MEDIA_TYPE } from '../taxii/media-types.js';
import { withoutUndefined } from '../taxii/resources.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes outside TAXII (health, metrics, docs) set this to false. */
    taxii?: boolean;
  }
}

/**
 * The HTTP conventions of TAXII for every route: content negotiation (406),
 * the TAXII Content-Type on every response, errors included (interop rule 1),
 * and one error handler that renders the TAXII error resource (§3.6.1) with
 * the request id as error_id. Unknown failures are logged with context and
 * answered with a generic 500 that never echoes driver or stack details.
 */
export const taxiiHttp = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRequest', async (request) => {
      if (request.routeOptions.config?.taxii === false || request.url.startsWith('/admin/')) return;
      if (!acceptsTaxii(request.headers.accept)) throw notAcceptable();
    });

    app.addHook('onSend', async (request, reply, payload) => {
      if (request.routeOptions.config?.taxii !== false && !request.url.startsWith('/admin/')) reply.header('content-type', TAXII_MEDIA_TYPE);
      return payload;
    });

    app.setErrorHandler((error: FastifyError | TaxiiError, request, reply) => {
      const taxii = toTaxiiError(error);
      if (taxii.httpStatus >= 500) request.log.error({ err: error }, 'request failed');
      sendError(reply, request, taxii);
    });

    app.setNotFoundHandler((request, reply) => {
      sendError(reply, request, notFound(`The resource ${request.url.split('?')[0]}`));
    });
  },
  { name: 'taxii-http' },
);

export function sendError(reply: FastifyReply, request: FastifyRequest, error: TaxiiError): void {
  if (error.headers) reply.headers(error.headers);
  // The same error resource everywhere; outside TAXII (admin API, health) it is plain JSON.
  const outsideTaxii = request.routeOptions.config?.taxii === false || request.url.startsWith('/admin/');
  reply
    .status(error.httpStatus)
    .header('content-type', outsideTaxii ? 'application/json; charset=utf-8' : TAXII_MEDIA_TYPE)
    .send(
      JSON.stringify(
        withoutUndefined({
          title: error.title,
          description: error.description,
          error_id: request.id,
          http_status: String(error.httpStatus),
          details: error.details,
        }),
      ),
    );
}

const DATABASE_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);

/** Maps whatever was thrown to the TAXII error a client should see. */
export function toTaxiiError(error: unknown): TaxiiError {
  if (error instanceof TaxiiError) return error;
  const e = error as Partial<FastifyError> & { code?: string };
  if (e.code && DATABASE_UNAVAILABLE.has(e.code)) {
    return new TaxiiError(503, 'Service unavailable', 'The database is not reachable; try again shortly.', undefined, {
      'Retry-After': '5',
    });
  }
  if (e.message?.includes('Connection terminated') || e.message?.includes('timeout exceeded when trying to connect')) {
    return new TaxiiError(503, 'Service unavailable', 'The database is not reachable; try again shortly.', undefined, {
      'Retry-After': '5',
    });
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TaxiiError(413, 'Payload too large', 'The request body is too large.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new TaxiiError(415, 'Unsupported media type', e.message);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_BAD_URL':
      return new TaxiiError(400, 'Bad request', e.message);
  }
  const status = e.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new TaxiiError(status, status === 429 ? 'Too many requests' : 'Bad request', e.message);
  }
  return new TaxiiError(500, 'Internal server error', 'The server failed to process the request; the error_id identifies it in the logs.');
}
