import { validate, compileErrors } from '@readme/openapi-parser';
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { OpenAPIV3 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { COLLECTION, PASSWORD, standardSeed } from '../support/fixtures.js';
import { envelope, indicator } from '../support/stix.js';
import { basic, createTestApp, TAXII, type TestApp } from '../support/test-app.js';

let t: TestApp;
let doc: OpenAPIV3.Document;
const writer = basic('writer', PASSWORD);
const objectsPath = `/api1/collections/${COLLECTION}/objects/`;

beforeAll(async () => {
  t = await createTestApp(standardSeed());
  const res = await t.http.get('/openapi.json');
  doc = JSON.parse(res.text) as OpenAPIV3.Document;
});
afterAll(async () => t?.close());

/** Fastify's URL pattern as an OpenAPI path: /:apiRoot/ → /{apiRoot}/. */
const openapiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('The OpenAPI document at /openapi.json', () => {
  it('is served as JSON without credentials and whatever the Accept header (outside TAXII content negotiation)', async () => {
    const res = await t.http.get('/openapi.json').set('Accept', 'text/html');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(res.text)).toMatchObject({ openapi: expect.stringMatching(/^3\./) });
  });

  it('is a valid OpenAPI 3 document (checked with @readme/openapi-parser)', async () => {
    const result = await validate(structuredClone(doc) as never);
    if (!result.valid) throw new Error(compileErrors(result));
    expect(result.specification).toBe('OpenAPI');
  });

  it('describes every route the app registers, with its method (405 catch-alls and HEAD aside)', async () => {
    const routes: RouteOptions[] = [];
    const app: FastifyInstance = await buildApp(t.config, t.database, { logger: false, onRoute: (route) => void routes.push(route) });
    try {
      await app.ready();
      const document = app.swagger() as OpenAPIV3.Document;
      const missing: string[] = [];
      let checked = 0;
      for (const route of routes) {
        const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');
        if (methods.length === 0) continue;
        // The assets of the browsable page (/docs/static/..., /docs/json): the page itself is documented.
        if (route.url.startsWith('/docs/')) continue;
        // A 405 catch-all answers 405 to every method it was registered for: it is no operation.
        if (route.schema?.hide) {
          const probe = await app.inject({ method: methods[0]!, url: route.url.replace(/:[A-Za-z0-9_]+/g, 'x'), headers: { accept: TAXII } });
          expect(probe.statusCode, `${methods[0]} ${route.url} is hidden from the document but is not a 405 catch-all`).toBe(405);
          continue;
        }
        for (const method of methods) {
          checked++;
          const operation = document.paths[openapiPath(route.url)]?.[method.toLowerCase() as OpenAPIV3.HttpMethods];
          if (!operation) missing.push(`${method} ${route.url}`);
        }
      }
      expect(missing).toEqual([]);
      // The TAXII endpoints and the operations endpoints at least.
      expect(checked).toBeGreaterThanOrEqual(16);
    } finally {
      await app.close();
    }
  });

  it('describes the TAXII endpoints: discovery, API root, status, collections, collection, objects, object, versions, manifest', () => {
    const expected: [string, string][] = [
      ['/taxii2/', 'get'],
      ['/{apiRoot}/', 'get'],
      ['/{apiRoot}/status/{statusId}/', 'get'],
      ['/{apiRoot}/collections/', 'get'],
      ['/{apiRoot}/collections/{collectionId}/', 'get'],
      ['/{apiRoot}/collections/{collectionId}/objects/', 'get'],
      ['/{apiRoot}/collections/{collectionId}/objects/', 'post'],
      ['/{apiRoot}/collections/{collectionId}/objects/{objectId}/', 'get'],
      ['/{apiRoot}/collections/{collectionId}/objects/{objectId}/', 'delete'],
      ['/{apiRoot}/collections/{collectionId}/objects/{objectId}/versions/', 'get'],
      ['/{apiRoot}/collections/{collectionId}/manifest/', 'get'],
    ];
    for (const [path, method] of expected) {
      const operation = doc.paths[path]?.[method as OpenAPIV3.HttpMethods];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(operation!.security).toEqual(expect.arrayContaining([{ basicAuth: [] }, { bearerAuth: [] }]));
      const responses = operation!.responses;
      expect(responses['401']).toMatchObject({ headers: { 'WWW-Authenticate': expect.any(Object) } });
      expect(responses['406']).toMatchObject({ content: { [TAXII]: { schema: { $ref: '#/components/schemas/taxii.error' } } } });
    }
    // The operations of TAXII paths are exactly the methods the paths take (405 otherwise).
    expect(Object.keys(doc.paths['/{apiRoot}/collections/{collectionId}/objects/{objectId}/']!).sort()).toEqual(['delete', 'get']);
  });

  it('registers the TAXII resource schemas once, as components referenced by the operations', () => {
    const schemas = doc.components!.schemas!;
    for (const name of ['discovery', 'api-root', 'status', 'collections', 'collection', 'envelope', 'manifest', 'versions', 'error']) {
      expect(schemas[`taxii.${name}`], name).toMatchObject({ type: 'object', title: expect.stringMatching(/^TAXII /) });
    }
    expect(doc.paths['/taxii2/']!.get!.responses['200']).toMatchObject({
      content: { [TAXII]: { schema: { $ref: '#/components/schemas/taxii.discovery' } } },
    });
    expect(schemas['taxii.collections']).toMatchObject({ properties: { collections: { items: { $ref: '#/components/schemas/taxii.collection' } } } });
  });

  it('describes the paging parameters and the X-TAXII-Date-Added headers of Get Objects (TAXII §3.2, §3.4)', () => {
    const get = doc.paths['/{apiRoot}/collections/{collectionId}/objects/']!.get!;
    const query = (get.parameters as OpenAPIV3.ParameterObject[]).filter((p) => p.in === 'query');
    expect(query.map((p) => p.name).sort()).toEqual(
      ['added_after', 'limit', 'match[id]', 'match[spec_version]', 'match[type]', 'match[version]', 'next'].sort(),
    );
    expect(query.every((p) => p.required === false && (p.schema as OpenAPIV3.SchemaObject).type === 'string')).toBe(true);
    const ok = get.responses['200'] as OpenAPIV3.ResponseObject;
    expect(Object.keys(ok.headers!)).toEqual(['X-TAXII-Date-Added-First', 'X-TAXII-Date-Added-Last']);
    expect(ok.content![TAXII]!.schema).toEqual({ $ref: '#/components/schemas/taxii.envelope' });
    const paths = (get.parameters as OpenAPIV3.ParameterObject[]).filter((p) => p.in === 'path').map((p) => p.name);
    expect(paths).toEqual(['apiRoot', 'collectionId']);
  });

  it('describes Add Objects: an envelope or a STIX bundle in, a status resource (202) out', () => {
    const post = doc.paths['/{apiRoot}/collections/{collectionId}/objects/']!.post!;
    const body = post.requestBody as OpenAPIV3.RequestBodyObject;
    expect(body.content[TAXII]!.schema).toEqual({ $ref: '#/components/schemas/taxii.envelope' });
    expect(body.content['application/stix+json;version=2.1']).toBeDefined();
    expect(post.responses['202']).toMatchObject({ content: { [TAXII]: { schema: { $ref: '#/components/schemas/taxii.status' } } } });
    for (const status of ['413', '415', '422']) expect(post.responses[status], status).toBeDefined();
  });

  it('declares HTTP Basic and bearer API keys (and says Token works too); the operations endpoints are public', () => {
    const schemes = doc.components!.securitySchemes!;
    expect(schemes.basicAuth).toMatchObject({ type: 'http', scheme: 'basic' });
    expect(schemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer', description: expect.stringContaining('Token <key>') });
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs']) {
      expect(doc.paths[path]?.get?.security, path).toEqual([]);
    }
  });
});

describe('Route schemas are documentation only: the TAXII routes behave as before', () => {
  it('answers a repeated query parameter with the route\'s own TAXII 400 (TAXII §3.4)', async () => {
    const res = await t.http.get(`${objectsPath}?match[type]=indicator&match[type]=malware`).set('Authorization', writer);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe(TAXII);
    expect(JSON.parse(res.text)).toMatchObject({ title: 'Bad request', description: 'The parameter match[type] may appear only once.' });
  });

  it('answers a malformed limit with the route\'s own message, not a schema validation error', async () => {
    const res = await t.http.get(`${objectsPath}?limit=ten`).set('Authorization', writer);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).description).toBe('limit must be a positive integer (got "ten").');
  });

  it('accepts unknown query parameters (TAXII §3.4.1)', async () => {
    const res = await t.http.get(`${objectsPath}?cache_buster=1&match[colour]=red`).set('Authorization', writer);
    expect(res.status).toBe(200);
  });

  it('takes a STIX bundle although the body schema describes an envelope', async () => {
    const object = indicator();
    const res = await t.http
      .post(objectsPath)
      .set('Authorization', writer)
      .set('Content-Type', 'application/stix+json;version=2.1')
      .send(JSON.stringify({ type: 'bundle', id: 'bundle--6d8a3f1e-1d4b-4c55-9f4e-0a4c5d6e7f80', objects: [object] }));
    expect(res.status).toBe(202);
    expect(JSON.parse(res.text)).toMatchObject({ success_count: 1, failure_count: 0 });
  });

  it('sends the pre-serialised JSON as it is: no response schema re-serialises it (stored key order and custom properties kept)', async () => {
    // The envelope schema lists type, id, spec_version... first: a schema-driven
    // serializer would reorder these keys and could drop what it does not know.
    const object = { x_hub_note: { nested: [1, 'two', null] }, ...indicator() };
    const post = await t.http.post(objectsPath).set('Authorization', writer).set('Content-Type', TAXII).send(envelope([object]));
    expect(post.status).toBe(202);
    const res = await t.http.get(`${objectsPath}${object.id}/`).set('Authorization', writer);
    expect(res.status).toBe(200);
    expect(res.text).toBe(`{"more":false,"objects":[${JSON.stringify(object)}]}`);
  });
});

describe('The browsable documentation at /docs', () => {
  it('serves the Swagger UI page and its document without credentials', async () => {
    const page = await t.http.get('/docs').set('Accept', 'text/html');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('swagger');
    const json = await t.http.get('/docs/json').set('Accept', 'application/json');
    expect(json.status).toBe(200);
    expect(JSON.parse(json.text).paths['/taxii2/']).toBeDefined();
    const initializer = await t.http.get('/docs/static/swagger-initializer.js');
    expect(initializer.status).toBe(200);
  });
});
