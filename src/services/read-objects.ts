import type { CollectionAccess } from '../db/catalog.js';
import type { Db } from '../db/database.js';
import {
  objectExists,
  selectManifest,
  selectObjects,
  selectVersions,
  type PageQuery,
} from '../db/object-queries.js';
import type { CursorCodec, CursorPosition } from '../taxii/cursor.js';
import { notFound } from '../taxii/errors.js';
import type { Filters, ReadQuery } from '../taxii/query.js';
import { dateAddedHeaders, envelopeJson, manifestJson, versionsJson } from '../taxii/resources.js';
import type { ServiceMetrics } from './metrics.js';

/**
 * Get Objects, Get an Object, Get Object Manifests and Get Object Versions
 * (TAXII §5.3, §5.4, §5.6, §5.8): one page in date_added order, `more` and
 * `next` when more remain, and the X-TAXII-Date-Added headers.
 */
export interface ReadDeps {
  db: Db;
  cursors: CursorCodec;
  pageDefaultLimit: number;
  pageMaxLimit: number;
  metrics?: ServiceMetrics;
}

export interface TaxiiPage {
  body: string;
  headers: Record<string, string>;
  /** What the page hands out, for the delivery audit: ids and versions in page order, TLP ranks (null: unmarked). */
  delivered: DeliveredPage;
}

export interface DeliveredPage {
  ids: string[];
  versions: string[];
  tlps: (number | null)[];
}

export type ReadKind = 'objects' | 'manifest' | 'object' | 'versions';

/** "After the later of the two" positions (interop rule 3); added_after alone is strictly-after. */
const END_OF_INSTANT = Number.MAX_SAFE_INTEGER;

interface Plan {
  filters: Filters;
  after: CursorPosition | undefined;
  limit: number;
  requestedLimit: number | undefined;
}

function plan(deps: ReadDeps, collection: CollectionAccess, readerKey: string, query: ReadQuery): Plan {
  let filters: Filters = query.filters;
  let after: CursorPosition | undefined;
  let requestedLimit = query.limit;
  if (query.next !== undefined) {
    const cursor = deps.cursors.decode(query.next, { collectionId: collection.id, principal: readerKey });
    // Filters sent explicitly with a cursor take precedence over the cursor's own.
    filters = { ...cursor.filters, ...definedOnly(query.filters) };
    requestedLimit ??= cursor.limit;
    after = cursor.position;
  }
  if (query.addedAfter !== undefined) {
    const fromAddedAfter = { date: query.addedAfter, seq: END_OF_INSTANT };
    if (!after || query.addedAfter >= after.date) after = fromAddedAfter;
  }
  const limit = Math.min(requestedLimit ?? deps.pageDefaultLimit, deps.pageMaxLimit);
  return { filters, after, limit, requestedLimit };
}

function definedOnly(filters: Filters): Filters {
  return Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined)) as Filters;
}

/**
 * `readerKey` binds cursors to the reader (an account, or an operator's
 * preview of an organisation). A hidden object answers exactly like one that
 * was never stored (maturity-design rule 1).
 */
export async function readPage(
  deps: ReadDeps,
  kind: ReadKind,
  collection: CollectionAccess,
  readerKey: string,
  query: ReadQuery,
  objectId?: string,
): Promise<TaxiiPage> {
  const p = plan(deps, collection, readerKey, query);
  const view = collection.view?.view;
  if (objectId !== undefined && !(await objectExists(deps.db, collection.id, objectId, view))) {
    throw notFound(`The object ${objectId}`);
  }
  const pageQuery: PageQuery = {
    collectionId: collection.id,
    filters: p.filters,
    limit: p.limit + 1,
    ...(objectId !== undefined ? { objectId } : {}),
    ...(p.after ? { after: p.after } : {}),
    ...(view ? { view } : {}),
  };
  const rows =
    kind === 'manifest'
      ? await selectManifest(deps.db, pageQuery)
      : kind === 'versions'
        ? await selectVersions(deps.db, pageQuery)
        : await selectObjects(deps.db, pageQuery);
  const more = rows.length > p.limit;
  const page = more ? rows.slice(0, p.limit) : rows;
  const last = page[page.length - 1];
  const next =
    more && last
      ? deps.cursors.encode({
          collectionId: collection.id,
          principal: readerKey,
          position: { date: last.date_added, seq: last.cseq },
          filters: p.filters,
          ...(p.requestedLimit !== undefined ? { limit: p.requestedLimit } : {}),
        })
      : undefined;
  const headers = dateAddedHeaders(page.map((r) => r.date_added));
  deps.metrics?.objectsServed(kind, page.length);
  const delivered: DeliveredPage = { ids: page.map((r) => r.stix_id), versions: page.map((r) => r.version), tlps: page.map((r) => r.tlp) };
  if (kind === 'manifest') {
    const entries = (page as Awaited<ReturnType<typeof selectManifest>>).map((r) => ({
      id: r.stix_id, dateAdded: r.date_added, version: r.version, specVersion: r.spec_version,
    }));
    return { body: manifestJson(entries, more, next), headers, delivered };
  }
  if (kind === 'versions') {
    const versions = (page as Awaited<ReturnType<typeof selectVersions>>).map((r) => r.version);
    return { body: versionsJson(versions, more, next), headers, delivered };
  }
  const bodies = (page as Awaited<ReturnType<typeof selectObjects>>).map((r) => r.body);
  return { body: envelopeJson(bodies, more, next), headers, delivered };
}
