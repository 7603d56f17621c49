/**
 * The one error type of the server. Whatever goes wrong in a request ends as a
 * TaxiiError (or is converted to one by the error handler) and is rendered as
 * the TAXII error resource (TAXII §3.6.1).
 */
export class TaxiiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly title: string,
    readonly description?: string,
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(description ? `${title}: ${description}` : title);
  }
}

export const badRequest = (description: string, details?: Record<string, unknown>) =>
  new TaxiiError(400, 'Bad request', description, details);

export const unauthorized = (description = 'Valid credentials are required (HTTP Basic, or an API key as Bearer or Token).') =>
  new TaxiiError(401, 'Authentication required', description, undefined, {
    'WWW-Authenticate': 'Basic realm="TAXII", charset="UTF-8", Bearer realm="TAXII"',
  });

export const forbidden = (description: string) => new TaxiiError(403, 'Forbidden', description);

/** The same answer for "does not exist" and "you may not know it exists" (TAXII Appendix B). */
export const notFound = (what: string) => new TaxiiError(404, 'Not found', `${what} was not found.`);

export const notAcceptable = () =>
  new TaxiiError(
    406,
    'Not acceptable',
    'This server answers with application/taxii+json;version=2.1; the Accept header allows no such media type.',
  );

export const payloadTooLarge = (max: number) =>
  new TaxiiError(413, 'Payload too large', `The request body exceeds this API root's max_content_length of ${max} bytes.`, {
    max_content_length: max,
  });

export const unsupportedMediaType = (got: string | undefined) =>
  new TaxiiError(
    415,
    'Unsupported media type',
    `Send objects as application/taxii+json;version=2.1 (a TAXII envelope) or application/stix+json;version=2.1 (a STIX bundle); got ${got ? `"${got}"` : 'no Content-Type'}.`,
  );

export const conflict = (description: string) => new TaxiiError(409, 'Conflict', description);

export const unprocessable = (description: string, details?: Record<string, unknown>) =>
  new TaxiiError(422, 'Unprocessable content', description, details);

/** 503 with Retry-After (RFC 9110 §10.2.3): the request was not processed; the client may send it again later. */
export const serviceUnavailable = (description: string, retryAfterSeconds: number) =>
  new TaxiiError(503, 'Service unavailable', description, undefined, { 'Retry-After': String(retryAfterSeconds) });

/** 429 with Retry-After (RFC 6585 §4): a rate limit of the caller is spent until the window ends. */
export const tooManyRequests = (description: string, retryAfterSeconds: number) =>
  new TaxiiError(429, 'Too many requests', description, { retry_after_seconds: retryAfterSeconds }, { 'Retry-After': String(retryAfterSeconds) });
