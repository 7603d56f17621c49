import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { addObjects } from '../services/add-objects.js';
import { deleteObject } from '../services/delete-object.js';
import { writerOf } from '../services/delivery-audit.js';
import { readPage, type ReadDeps, type ReadKind } from '../services/read-objects.js';
import { badRequest, payloadTooLarge, unsupportedMediaType } from '../taxii/errors.js';
import { classifyContentType, type PostBodyKind } from '../taxii/media-types.js';
import { parseReadQuery, type Endpoint } from '../taxii/query.js';
import { statusResource } from '../taxii/resources.js';
import { loadCollection } from './context.js';
import { methodNotAllowed } from './method-not-allowed.js';
import { taxiiRoute, type TaxiiOperation } from './taxii-schemas.js';

interface PostBody {
  kind: PostBodyKind;
  bytes: Buffer;
}

const STIX_ID = /^[a-z][a-z0-9-]+[a-z0-9]--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * Reads a POST body up to the API root's max_content_length (TAXII §4.2.1):
 * a declared Content-Length over the limit is refused before reading, and a
 * chunked body is cut off as soon as it passes the limit (413 either way).
 */
function collectBody(request: FastifyRequest, payload: NodeJS.ReadableStream, done: (err: Error | null, body?: PostBody) => void) {
  // Only Add Objects resolves an API root (loadCollection) and reads a body; the 405 routes of the same
  // paths (PUT, PATCH, OPTIONS… with a body) have none and never look at it.
  if (request.apiRoot === undefined) return done(null, undefined);
  const kind = classifyContentType(request.headers['content-type']);
  if (!kind) return done(unsupportedMediaType(request.headers['content-type']));
  const limit = request.apiRoot.maxContentLength;
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return done(payloadTooLarge(limit));
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (err: Error | null, body?: PostBody) => {
    if (finished) return;
    finished = true;
    done(err, body);
  };
  payload.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) {
      payload.removeAllListeners('data');
      payload.resume();
      finish(payloadTooLarge(limit));
      return;
    }
    chunks.push(chunk);
  });
  payload.on('end', () => finish(null, { kind, bytes: Buffer.concat(chunks, size) }));
  payload.on('error', (error: Error) => finish(error));
}

/**
 * The collection endpoints that carry objects (TAXII §5.3–§5.8): objects
 * (GET, POST), one object (GET, DELETE), its versions, and the manifest.
 */
export async function objectRoutes(app: FastifyInstance) {
  const { config, db, cursors, validator } = app.taxii;
  const readDeps: ReadDeps = { db, cursors, pageDefaultLimit: config.pageDefaultLimit, pageMaxLimit: config.pageMaxLimit, metrics: app.taxii.metrics };
  const limits = { maxMatchValues: config.maxMatchValues };

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', collectBody);

  const reader = (kind: ReadKind, endpoint: Endpoint) =>
    async function (request: FastifyRequest, reply: FastifyReply) {
      const query = parseReadQuery(request.query as Record<string, string | string[]>, endpoint, limits);
      const objectId = (request.params as { objectId?: string }).objectId;
      if (objectId !== undefined && !STIX_ID.test(objectId)) throw badRequest(`"${objectId}" is not a STIX identifier.`);
      const page = await readPage(readDeps, kind, request.collection, request.readerKey, query, objectId);
      // Buffered (no database write), except for a page with a TLP:RED object: stored before it is sent.
      await app.taxii.deliveries.record(request, kind, page.delivered);
      reply.headers(page.headers);
      return page.body;
    };

  const base = '/:apiRoot/collections/:collectionId';
  const readHooks = [app.requireCredentials, loadCollection('read')];

  const readSchema = (op: Pick<TaxiiOperation, 'operationId' | 'summary' | 'description' | 'params' | 'query' | 'ok'>) =>
    taxiiRoute({ ...op, tag: 'Objects', preview: true, errors: [400, 403, 404] });

  app.get(
    `${base}/objects/`,
    {
      ...readSchema({
        operationId: 'getObjects',
        summary: 'Objects of a collection',
        description: 'TAXII §5.3: one page of objects in date_added order; by default only the newest version of each.',
        params: ['apiRoot', 'collectionId'],
        query: 'objects',
        ok: { status: 200, description: 'An envelope.', schema: 'envelope', pageHeaders: true },
      }),
      onRequest: readHooks,
    },
    reader('objects', 'objects'),
  );
  app.post(
    `${base}/objects/`,
    {
      ...taxiiRoute({
        operationId: 'addObjects',
        tag: 'Objects',
        summary: 'Add objects to a collection',
        description:
          "TAXII §5.5: an envelope, or a STIX bundle. Each object is validated on its own: invalid ones are listed in the status's failures and the rest are stored. Processed synchronously: the status is already complete.",
        params: ['apiRoot', 'collectionId'],
        body: true,
        ok: { status: 202, description: 'The status resource of the request.', schema: 'status' },
        errors: [400, 403, 404, 413, 415, 422],
      }),
      onRequest: [app.requireCredentials, loadCollection('write')],
      bodyLimit: 1024 * 1024 * 1024,
    },
    async (request, reply) => {
      const body = request.body as PostBody | undefined;
      if (!body) throw unsupportedMediaType(request.headers['content-type']);
      const status = await addObjects(
        { db, validator, limits: config, metrics: app.taxii.metrics },
        request.collection,
        request.principal!,
        body.bytes,
        body.kind,
        Date.now() * 1000,
        request,
      );
      reply.status(202);
      return JSON.stringify(statusResource(status));
    },
  );
  methodNotAllowed(app, `${base}/objects/`, ['GET', 'POST']);

  app.get(
    `${base}/objects/:objectId/`,
    {
      ...readSchema({
        operationId: 'getObject',
        summary: 'One object',
        description: 'TAXII §5.4: the versions of one object (by default its newest), paged.',
        params: ['apiRoot', 'collectionId', 'objectId'],
        query: 'object',
        ok: { status: 200, description: 'An envelope.', schema: 'envelope', pageHeaders: true },
      }),
      onRequest: readHooks,
    },
    reader('object', 'object'),
  );
  app.delete(
    `${base}/objects/:objectId/`,
    {
      ...taxiiRoute({
        operationId: 'deleteObject',
        tag: 'Objects',
        summary: 'Delete an object',
        description: 'TAXII §5.7: every version, or those chosen by match[version] / match[spec_version]. Needs both read and write access.',
        params: ['apiRoot', 'collectionId', 'objectId'],
        query: 'delete',
        ok: { status: 200, description: 'Deleted (an empty body).' },
        errors: [400, 403, 404],
      }),
      onRequest: [app.requireCredentials, loadCollection('delete')],
    },
    async (request, reply) => {
      const { objectId } = request.params as { objectId: string };
      if (!STIX_ID.test(objectId)) throw badRequest(`"${objectId}" is not a STIX identifier.`);
      const query = parseReadQuery(request.query as Record<string, string | string[]>, 'delete', limits);
      await deleteObject(db, request.collection, objectId, query.filters, writerOf(request.principal!, request));
      reply.status(200);
      return '';
    },
  );
  methodNotAllowed(app, `${base}/objects/:objectId/`, ['GET', 'DELETE']);

  app.get(
    `${base}/objects/:objectId/versions/`,
    {
      ...readSchema({
        operationId: 'getObjectVersions',
        summary: 'Versions of an object',
        description: 'TAXII §5.8: the versions of one object, oldest first.',
        params: ['apiRoot', 'collectionId', 'objectId'],
        query: 'versions',
        ok: { status: 200, description: 'The versions resource.', schema: 'versions', pageHeaders: true },
      }),
      onRequest: readHooks,
    },
    reader('versions', 'versions'),
  );
  methodNotAllowed(app, `${base}/objects/:objectId/versions/`, ['GET']);

  app.get(
    `${base}/manifest/`,
    {
      ...readSchema({
        operationId: 'getManifest',
        summary: 'Manifest of a collection',
        description: 'TAXII §5.6: one record per object version (id, date_added, version, media_type), with the filters of Get Objects.',
        params: ['apiRoot', 'collectionId'],
        query: 'manifest',
        ok: { status: 200, description: 'The manifest resource.', schema: 'manifest', pageHeaders: true },
      }),
      onRequest: readHooks,
    },
    reader('manifest', 'manifest'),
  );
  methodNotAllowed(app, `${base}/manifest/`, ['GET']);
}
