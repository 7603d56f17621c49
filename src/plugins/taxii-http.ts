import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import { v4 as uuidv4 } from 'uuid';
import { isDatabaseUnavailable } from '../db/connection-errors.js';
import { TaxiiError, badRequest, notAcceptable, notFound, serviceUnavailable } from '../taxii/errors.js';
import { acceptsTaxii, TAXII_MEDIA_TYPE } from '../taxii/media-types.js';
import { withoutUndefined } from '../taxii/resources.js';
import { isStorableText } from '../taxii/text.js';

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
      // No identifier or parameter may hold U+0000 or an unpaired surrogate: the database cannot compare them.
      checkUrlText(request);
      if (request.routeOptions.config?.taxii === false || request.url.startsWith('/admin/')) return;
      if (!acceptsTaxii(request.headers.accept)) throw notAcceptable();
    });

    app.addHook('onSend', async (request, reply, payload) => {
      if (request.routeOptions.config?.taxii !== false && !request.url.startsWith('/admin/')) reply.header('content-type', TAXII_MEDIA_TYPE);
      return payload;
    });

    app.setErrorHandler((error: FastifyError | TaxiiError, request, reply) => {
      const taxii = toTaxiiError(error);
      logFailure(request, error, taxii);
      sendError(reply, request, taxii);
    });

    app.setNotFoundHandler((request, reply) => {
      sendError(reply, request, notFound(`The resource ${request.url.split('?')[0]}`));
    });
  },
  { name: 'taxii-http' },
);

function checkUrlText(request: FastifyRequest): void {
  const parts: [string, unknown][] = [
    ...Object.entries((request.params ?? {}) as Record<string, unknown>),
    ...Object.entries((request.query ?? {}) as Record<string, unknown>).flatMap(([k, v]): [string, unknown][] => [
      ['query parameter name', k],
      ...(Array.isArray(v) ? v.map((x): [string, unknown] => [k, x]) : [[k, v] as [string, unknown]]),
    ]),
  ];
  for (const [name, value] of parts) {
    if (typeof value === 'string' && !isStorableText(value)) {
      throw badRequest(`The URL holds a character that no ${name === 'query parameter name' ? name : `value of ${name.slice(0, 64)}`} may contain (U+0000 or an unpaired surrogate).`);
    }
  }
}

/** The media type of an error answer: plain JSON outside TAXII (admin API, health), the TAXII type everywhere else. */
function outsideTaxii(request: FastifyRequest): boolean {
  return request.routeOptions?.config?.taxii === false || request.url.startsWith('/admin/');
}

export function sendError(reply: FastifyReply, request: FastifyRequest, error: TaxiiError): void {
  if (error.headers) reply.headers(error.headers);
  // The same error resource everywhere; outside TAXII (admin API, health) it is plain JSON.
  reply
    .status(error.httpStatus)
    .header('content-type', outsideTaxii(request) ? 'application/json; charset=utf-8' : TAXII_MEDIA_TYPE)
    .send(
      // A Buffer, so that Fastify keeps the Content-Type as set (for a string it appends "; charset=utf-8"),
      // also where no onSend hook runs (frameworkErrors).
      Buffer.from(
        JSON.stringify(
          withoutUndefined({
            title: error.title,
            description: error.description,
            error_id: request.id,
            http_status: String(error.httpStatus),
            details: error.details,
          }),
        ),
      ),
    );
}

/** Retry-After of the 503 answered while the database is unavailable. */
const DATABASE_RETRY_AFTER_SECONDS = 5;

/** Maps whatever was thrown to the TAXII error a client should see. */
export function toTaxiiError(error: unknown): TaxiiError {
  if (error instanceof TaxiiError) return error;
  const e = error as Partial<FastifyError> & { code?: string };
  // Down, unreachable, restarting or too slow: the request was not (or not wholly) done; retry.
  if (isDatabaseUnavailable(error)) {
    return serviceUnavailable('The database is unavailable or too slow to answer; try again shortly.', DATABASE_RETRY_AFTER_SECONDS);
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TaxiiError(413, 'Payload too large', 'The request body is too large.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new TaxiiError(415, 'Unsupported media type', e.message);
    case 'FST_UNDER_PRESSURE':
      return serviceUnavailable('The server is overloaded; retry later.', DATABASE_RETRY_AFTER_SECONDS);
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

/**
 * Fastify's `frameworkErrors` (app.ts): failures found by the router before any
 * route runs, which Fastify would otherwise answer with its own JSON body: a
 * URL that does not decode (%FF, an encoded lone surrogate: 400) and a path
 * segment longer than maxParamLength (414).
 */
export const frameworkErrors: NonNullable<FastifyServerOptions['frameworkErrors']> = (error, request, reply) => {
  const e = error as FastifyError;
  const taxii =
    e.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new TaxiiError(414, 'URI too long', 'A segment of the path is longer than this server accepts (300 characters).')
      : e.code === 'FST_ERR_BAD_URL'
        ? badRequest('The path is not a valid URL: a percent-encoded sequence does not decode to UTF-8.')
        : toTaxiiError(error);
  logFailure(request, error, taxii);
  sendError(reply, request, taxii);
};

/**
 * A 503 the server chose (overloaded, shutting down, the delivery audit
 * unavailable) is a warning with its reason, not an error with a stack: under
 * load there is one per refused request. Everything else from 500 up is an
 * error, logged with what was thrown (a database outage names the driver's code).
 */
function logFailure(request: FastifyRequest, error: unknown, taxii: TaxiiError): void {
  if (taxii.httpStatus < 500) return;
  if (error instanceof TaxiiError && taxii.httpStatus === 503) request.log.warn({ status: 503, reason: taxii.description }, 'request refused');
  else request.log.error({ err: error }, 'request failed');
}

/**
 * Fastify's `clientErrorHandler` (app.ts): requests Node's HTTP parser
 * refuses before Fastify sees them (a request line and headers over the
 * 16 KiB of --max-http-header-size, a malformed Content-Length, a byte that
 * may not appear in a header). They are answered with the TAXII error
 * resource, as everything else, then the connection is closed, as Node does.
 */
export const clientErrorHandler: NonNullable<FastifyServerOptions['clientErrorHandler']> = (error, socket) => {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const raw: unknown = (error as { rawPacket?: unknown }).rawPacket;
  const [status, title, description] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request timeout', 'The request was not received in time.']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request header fields too large', 'The request line and headers exceed the 16 KiB this server reads: shorten the URL (its query) or the headers.']
        : [400, 'Bad request', 'The HTTP request is malformed (its request line, a header or the body framing).'];
  if (socket.writable) {
    // What the parser had read, when it is the start of the request: plain JSON for the admin API, no body for HEAD.
    // An overflow is found in a later chunk of a long request, whose start is gone: that answer is always TAXII.
    const start = Buffer.isBuffer(raw) ? raw.subarray(0, 64).toString('latin1') : '';
    const admin = status !== 431 && /^[A-Z]+ \/admin\//.test(start);
    const body = JSON.stringify({ title, description, error_id: uuidv4(), http_status: String(status) });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${admin ? 'application/json; charset=utf-8' : TAXII_MEDIA_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${start.startsWith('HEAD ') ? '' : body}`,
    );
  }
  socket.destroy(error);
};
