import type { FastifySchema, FastifySchemaCompiler, FastifySerializerCompiler } from 'fastify';
import type { Endpoint } from '../taxii/query.js';
import { STIX_MEDIA_TYPE, TAXII_MEDIA_TYPE } from '../taxii/media-types.js';
import { PREVIEW_ORGANISATION_HEADER, PREVIEW_PROFILE_HEADER } from './context.js';

/**
 * Route schemas of the TAXII endpoints, for the OpenAPI document only.
 *
 * The TAXII routes parse and check their own input, so that every malformed
 * request gets a TAXII error resource with the message of the protocol
 * (TAXII §3.4: a repeated parameter, a bad timestamp...), unknown query
 * parameters are accepted (§3.4.1), and POST bodies are read raw up to each API
 * root's max_content_length. They also answer with JSON text they built
 * themselves (stored objects are spliced in byte for byte). So these schemas
 * must change nothing: every TAXII route gets a validator compiler that
 * accepts anything and a serializer compiler that is never reached (Fastify
 * sends string payloads as they are; see reply.send), the route-level
 * compilers of Fastify's Routes reference.
 */
export const TAXII_SCHEMA_BASE = 'https://taxii-hub.dev/schemas/taxii/';
export const TAXII_SCHEMA_NAMES = ['discovery', 'api-root', 'status', 'collections', 'collection', 'envelope', 'manifest', 'versions', 'error'] as const;
export type TaxiiSchemaName = (typeof TAXII_SCHEMA_NAMES)[number];

export const taxiiSchemaRef = (name: TaxiiSchemaName) => ({ $ref: `${TAXII_SCHEMA_BASE}${name}.json` });

/** Security requirements: HTTP Basic or an API key (Bearer, or `Token <key>`, described on the bearer scheme). */
export type SecurityRequirement = Record<string, string[]>;
export const CREDENTIALS: SecurityRequirement[] = [{ basicAuth: [] }, { bearerAuth: [] }];
/** Also answered without credentials (an empty requirement: PUBLIC_DISCOVERY). */
export const OPTIONAL_CREDENTIALS: SecurityRequirement[] = [...CREDENTIALS, {}];

const acceptAnything: FastifySchemaCompiler<unknown> = () => () => true;
const neverUsed: FastifySerializerCompiler<unknown> = () => (data) => JSON.stringify(data);

/** Route options that keep a route's schema for documentation only. */
export const documentationOnly = { validatorCompiler: acceptAnything, serializerCompiler: neverUsed };

type ParamName = 'apiRoot' | 'statusId' | 'collectionId' | 'objectId';

const PARAMS: Record<ParamName, Record<string, unknown>> = {
  apiRoot: { type: 'string', description: 'The API root, as in the discovery resource without slashes.', examples: ['isao'] },
  statusId: { type: 'string', description: 'The id of a status resource (a UUID).' },
  collectionId: { type: 'string', description: 'The collection id, or its alias.' },
  objectId: {
    type: 'string',
    description: 'A STIX identifier (400 otherwise).',
    examples: ['indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f'],
  },
};

const QUERY: Record<string, string> = {
  added_after: 'Only what was added after this RFC 3339 timestamp (strictly after). Use the X-TAXII-Date-Added-Last header of the previous page.',
  limit: 'Page size, a positive integer; the server default applies without it and larger values are capped (with more: true).',
  next: 'The opaque cursor of the previous page (its "next"); works alone or with the original filters.',
  'match[id]': 'Comma-separated STIX ids.',
  'match[type]': 'Comma-separated STIX types.',
  'match[version]': 'Comma-separated versions: first, last, all, or STIX timestamps (default last).',
  'match[spec_version]': 'Comma-separated STIX versions, e.g. 2.1 (default: the newest of each object).',
};

/** Which query parameters each endpoint takes (the same table as src/taxii/query.ts). */
const QUERY_BY_ENDPOINT: Record<Endpoint, string[]> = {
  objects: ['added_after', 'limit', 'next', 'match[id]', 'match[type]', 'match[version]', 'match[spec_version]'],
  manifest: ['added_after', 'limit', 'next', 'match[id]', 'match[type]', 'match[version]', 'match[spec_version]'],
  object: ['added_after', 'limit', 'next', 'match[version]', 'match[spec_version]'],
  versions: ['added_after', 'limit', 'next', 'match[spec_version]'],
  delete: ['match[version]', 'match[spec_version]'],
};

function querystring(endpoint: Endpoint) {
  return {
    type: 'object',
    // Unknown parameters are ignored (TAXII §3.4.1): nothing is refused here.
    additionalProperties: true,
    properties: Object.fromEntries(QUERY_BY_ENDPOINT[endpoint].map((name) => [name, { type: 'string', description: QUERY[name] }])),
  };
}

/** Operators (admin accounts) may read through another organisation's or profile's view. */
const PREVIEW_HEADERS = {
  type: 'object',
  additionalProperties: true,
  properties: {
    [PREVIEW_ORGANISATION_HEADER]: {
      type: 'string',
      description: 'Operators only: read as this organisation (name or id) would, through its maturity view.',
    },
    [PREVIEW_PROFILE_HEADER]: { type: 'string', description: 'Operators only: read through this maturity profile.' },
  },
};

const DATE_ADDED_HEADERS = {
  'X-TAXII-Date-Added-First': {
    type: 'string',
    format: 'date-time',
    description: 'date_added of the first object of the page (TAXII §3.2); absent on an empty page.',
  },
  'X-TAXII-Date-Added-Last': {
    type: 'string',
    format: 'date-time',
    description: 'date_added of the last object of the page; pass it as added_after to poll for what follows.',
  },
};

const ERRORS: Record<number, { description: string; headers?: Record<string, unknown> }> = {
  400: { description: 'Bad request: a malformed parameter, identifier or body.' },
  401: {
    description: 'No valid credentials.',
    headers: { 'WWW-Authenticate': { type: 'string', description: 'The accepted schemes: Basic and Bearer.' } },
  },
  403: { description: 'The caller may see the collection but lacks the right (read, write, or both for DELETE).' },
  404: { description: 'Unknown, or not visible to the caller (the same answer for both, TAXII Appendix B).' },
  406: { description: 'The Accept header allows no TAXII 2.1 media type.' },
  413: { description: "The body exceeds the API root's max_content_length." },
  415: { description: 'The Content-Type is not a TAXII envelope, a STIX bundle or JSON.' },
  422: { description: 'The envelope holds more objects than the server accepts in one request.' },
  429: {
    description: "A rate limit is spent: the account's requests per minute, or failed authentications from this address or for this name or key.",
    headers: { 'Retry-After': { type: 'string', description: 'Seconds until the limit resets.' } },
  },
  500: { description: 'An unexpected failure; error_id identifies it in the logs.' },
  503: {
    description: 'The database is not reachable.',
    headers: { 'Retry-After': { type: 'string', description: 'Seconds to wait before trying again.' } },
  },
};

function errorResponse(status: number) {
  const error = ERRORS[status];
  if (!error) throw new Error(`no description of the error status ${status}`);
  return {
    description: error.description,
    ...(error.headers ? { headers: error.headers } : {}),
    content: { [TAXII_MEDIA_TYPE]: { schema: taxiiSchemaRef('error') } },
  };
}

export interface TaxiiOperation {
  operationId: string;
  tag: 'Discovery' | 'Collections' | 'Objects';
  summary: string;
  description: string;
  params: ParamName[];
  /** The query parameters of this endpoint. */
  query?: Endpoint;
  /** Operators may preview another reader's view. */
  preview?: boolean;
  body?: boolean;
  ok: { status: 200 | 202; description: string; schema?: TaxiiSchemaName; pageHeaders?: boolean };
  errors: number[];
  /** Credentials are optional (PUBLIC_DISCOVERY). */
  anonymous?: boolean;
}

const ALWAYS = [401, 406, 429, 500, 503];

const STIX_BUNDLE = {
  type: 'object',
  description: 'A STIX 2.1 bundle; its objects are added as from an envelope.',
  required: ['type', 'id'],
  properties: {
    type: { type: 'string', enum: ['bundle'] },
    id: { type: 'string' },
    objects: { type: 'array', items: { type: 'object', additionalProperties: true } },
  },
  additionalProperties: true,
};

/** The route options (documentation-only schema and compilers) of one TAXII operation. */
export function taxiiRoute(op: TaxiiOperation): { schema: FastifySchema } & typeof documentationOnly {
  const response: Record<string, unknown> = {
    [op.ok.status]: {
      description: op.ok.description,
      ...(op.ok.pageHeaders ? { headers: DATE_ADDED_HEADERS } : {}),
      ...(op.ok.schema ? { content: { [TAXII_MEDIA_TYPE]: { schema: taxiiSchemaRef(op.ok.schema) } } } : { type: 'null' }),
    },
  };
  for (const status of [...new Set([...op.errors, ...ALWAYS])].sort((a, b) => a - b)) response[status] = errorResponse(status);

  const schema: FastifySchema = {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    description: op.description,
    security: op.anonymous ? OPTIONAL_CREDENTIALS : CREDENTIALS,
    params: {
      type: 'object',
      required: op.params,
      properties: Object.fromEntries(op.params.map((name) => [name, PARAMS[name]])),
    },
    ...(op.query ? { querystring: querystring(op.query) } : {}),
    ...(op.preview ? { headers: PREVIEW_HEADERS } : {}),
    ...(op.body
      ? {
          body: {
            content: {
              [TAXII_MEDIA_TYPE]: { schema: taxiiSchemaRef('envelope') },
              'application/taxii+json': { schema: taxiiSchemaRef('envelope') },
              'application/json': { schema: taxiiSchemaRef('envelope') },
              [STIX_MEDIA_TYPE]: { schema: STIX_BUNDLE },
            },
          },
        }
      : {}),
    response,
  };
  return { schema, ...documentationOnly };
}
